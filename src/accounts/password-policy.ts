// NIST SP 800-63B §3.1.1.2: a minimum length, at least 64 characters allowed, any Unicode, no
// composition rules, and a refusal of the most common passwords and of the username itself.
// Passwords are compared as NFC, so the same password typed as NFC or NFD verifies the same
// (catalogue BA-05).
export class WeakPassword extends Error {}

const COMMON = new Set([
  'password', 'password1', 'password123', 'passw0rd', '12345678', '123456789', '1234567890', '11111111',
  '00000000', '87654321', 'qwertyui', 'qwerty123', 'qwertyuiop', 'iloveyou', 'abc12345', 'abcd1234',
  'letmein1', 'welcome1', 'sunshine', 'princess', 'football', 'baseball', 'superman', 'trustno1',
  'changeme', 'admin123', 'administrator', 'gatehouse', '1q2w3e4r', 'zaq12wsx', '123123123', 'aaaaaaaa',
]);

export interface PasswordRules {
  passwordMinLength: number;
  passwordMaxLength: number;
}

export function normalizePassword(password: string): string {
  return password.normalize('NFC');
}

/** Throws WeakPassword with a message meant for the person choosing the password. */
export function checkNewPassword(password: string, rules: PasswordRules, usernameKey: string): string {
  const pw = normalizePassword(password);
  const length = [...pw].length;
  if (length < rules.passwordMinLength) throw new WeakPassword(`the password needs at least ${rules.passwordMinLength} characters`);
  if (length > rules.passwordMaxLength) throw new WeakPassword(`the password can have at most ${rules.passwordMaxLength} characters`);
  if (/[\u0000-\u001f\u007f]/.test(pw)) throw new WeakPassword('the password cannot contain control characters');
  const lower = pw.toLowerCase();
  if (COMMON.has(lower)) throw new WeakPassword('that password is among the most common ones; choose another');
  if (lower === usernameKey) throw new WeakPassword('the password cannot be the username');
  return pw;
}
