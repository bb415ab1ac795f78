// RFC 7515 §4 and RFC 8725 §2.6: a JOSE header (and, for us, a JWT payload) with duplicate member
// names is refused rather than read "last one wins" (catalogue JW-13). JSON.parse cannot tell, so
// this walks the text once and compares the decoded names of each object.
const WS = new Set([' ', '\t', '\n', '\r']);

/** True when some object in `json` names a member twice. Assumes nothing about validity: JSON.parse
 * runs afterwards and refuses anything malformed. */
export function hasDuplicateMembers(json: string): boolean {
  const objects: Array<Set<string> | null> = []; // null marks an array
  let expectName = false;
  for (let i = 0; i < json.length; i++) {
    const c = json[i]!;
    if (WS.has(c)) continue;
    if (c === '"') {
      const end = stringEnd(json, i);
      if (end < 0) return false;
      const top = objects[objects.length - 1];
      if (expectName && top) {
        let name: string;
        try {
          name = JSON.parse(json.slice(i, end + 1)) as string;
        } catch {
          return false;
        }
        if (top.has(name)) return true;
        top.add(name);
        expectName = false;
      }
      i = end;
    } else if (c === '{') {
      objects.push(new Set());
      expectName = true;
    } else if (c === '[') {
      objects.push(null);
    } else if (c === '}' || c === ']') {
      objects.pop();
      expectName = false;
    } else if (c === ',') {
      expectName = objects[objects.length - 1] != null;
    }
  }
  return false;
}

function stringEnd(json: string, start: number): number {
  for (let j = start + 1; j < json.length; j++) {
    if (json[j] === '\\') j++;
    else if (json[j] === '"') return j;
  }
  return -1;
}
