// node-oidc-provider's storage for the benchmarks: plain in-memory maps. Its development adapter is
// an LRU of 1000 entries, which would evict codes, sessions and grants minted ahead of or during a
// run; this is the same thing without the bound.
const stores = new Map();

export class MemoryAdapter {
  constructor(name) {
    if (!stores.has(name)) stores.set(name, new Map());
    this.items = stores.get(name);
  }
  async upsert(id, payload) { this.items.set(id, payload); }
  async find(id) { return this.items.get(id); }
  async findByUserCode(userCode) { for (const p of this.items.values()) if (p.userCode === userCode) return p; return undefined; }
  async findByUid(uid) { for (const p of this.items.values()) if (p.uid === uid) return p; return undefined; }
  async consume(id) { const p = this.items.get(id); if (p) p.consumed = Math.floor(Date.now() / 1000); }
  async destroy(id) { this.items.delete(id); }
  async revokeByGrantId(grantId) { for (const [id, p] of this.items) if (p.grantId === grantId) this.items.delete(id); }
}
