import { readAccounts } from '../../lib/cli/org-commands';

const accounts = Array.from({ length: 10 }, (_, i) => ({ account: String(100000000000 + i) }));

test('reads at most `limit` accounts at once, every account once, in order', async () => {
  let inFlight = 0;
  let most = 0;
  const seen: string[] = [];
  const out = await readAccounts(accounts, 3, async a => {
    inFlight++;
    most = Math.max(most, inFlight);
    seen.push(a.account);
    await new Promise(r => setTimeout(r, 5 + (Number(a.account) % 3) * 5));
    inFlight--;
    return { ok: true as const, value: a.account.slice(-1) };
  });
  expect(most).toBe(3);
  expect([...seen].sort()).toEqual(accounts.map(a => a.account));
  expect(out.map(r => (r.ok ? r.value : 'x'))).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
});

test('an account that throws or fails is reported with its code; the others are still read', async () => {
  const out = await readAccounts(accounts, 2, async a => {
    if (a.account.endsWith('3')) throw Object.assign(new Error('throttled'), { name: 'ThrottlingException' });
    if (a.account.endsWith('7')) return { ok: false as const, error: { code: 'AUDIT_ROLE_UNAVAILABLE', message: 'cannot assume' } };
    return { ok: true as const, value: 1 };
  });
  expect(out.filter(r => r.ok)).toHaveLength(8);
  expect(out.filter(r => !r.ok).map(r => [r.account, !r.ok && r.error.code])).toEqual([
    ['100000000003', 'ThrottlingException'],
    ['100000000007', 'AUDIT_ROLE_UNAVAILABLE'],
  ]);
});
