// Usernames: Unicode NFC, unique without regard to case (the key is the NFC of the lower-cased NFC
// form, as PRECIS UsernameCaseMapped does). A colon cannot appear: Basic splits at the first one
// (RFC 7617 §2).
export class InvalidUsername extends Error {}

export interface Username {
  username: string;
  key: string;
}

export function usernameKey(raw: string): string {
  return raw.normalize('NFC').toLowerCase().normalize('NFC');
}

export function checkUsername(raw: string): Username {
  const username = raw.normalize('NFC');
  const length = [...username].length;
  if (length < 1 || length > 64) throw new InvalidUsername('a username has 1 to 64 characters');
  if (/[\u0000-\u001f\u007f-\u009f]/.test(username)) throw new InvalidUsername('a username cannot contain control characters');
  if (username.includes(':')) throw new InvalidUsername('a username cannot contain ":" (HTTP Basic splits at the first colon)');
  if (username.trim() !== username) throw new InvalidUsername('a username cannot start or end with white space');
  return { username, key: usernameKey(username) };
}
