import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { JwtService } from '@nestjs/jwt';
import type { AccountReader } from './account-reader.js';
import { AuthService } from './auth.service.js';

const SECRET = 'auth-token-cache-test-secret-0123456789abcdef';

/** A real JwtService whose verifications are counted. */
function countingJwt(): { jwt: JwtService; verifications: () => number } {
  const jwt = new JwtService({ secret: SECRET, signOptions: { algorithm: 'HS256' } });
  let n = 0;
  const verifyAsync = jwt.verifyAsync.bind(jwt);
  jwt.verifyAsync = ((token: string, options?: object) => {
    n++;
    return verifyAsync(token, options);
  });
  return { jwt, verifications: () => n };
}

describe('AuthService.verify: verified tokens are cached until their exp', () => {
  // verify() never reads accounts.
  const noAccounts = undefined as unknown as AccountReader;

  it('checks a valid token once, then answers from the cache with the same claims', async () => {
    const { jwt, verifications } = countingJwt();
    const auth = new AuthService(jwt, noAccounts);
    const token = await jwt.signAsync({ sub: 'acc-1', username: 'alice' }, { expiresIn: '1h' });
    assert.deepEqual(await auth.verify(token), { sub: 'acc-1', username: 'alice' });
    assert.deepEqual(await auth.verify(token), { sub: 'acc-1', username: 'alice' });
    assert.equal(verifications(), 1);
  });

  it('refuses a cached token once its exp has passed', async () => {
    const { jwt } = countingJwt();
    const auth = new AuthService(jwt, noAccounts);
    const token = await jwt.signAsync({ sub: 'acc-2', username: 'bob' }, { expiresIn: '1s' });
    assert.deepEqual(await auth.verify(token), { sub: 'acc-2', username: 'bob' });
    await sleep(2100);
    assert.equal(await auth.verify(token), null);
    assert.equal(await auth.verify(token), null);
  });

  it('never caches a forged, foreign-secret or claim-less token: each is checked and refused every time', async () => {
    const { jwt, verifications } = countingJwt();
    const auth = new AuthService(jwt, noAccounts);
    const good = await jwt.signAsync({ sub: 'acc-3', username: 'carol' }, { expiresIn: '1h' });
    const [h, p] = good.split('.');
    const forgedPayload = Buffer.from(JSON.stringify({ sub: 'acc-admin', username: 'admin', exp: Math.floor(Date.now() / 1000) + 3600 })).toString('base64url');
    const forged = `${h}.${forgedPayload}.${good.split('.')[2]}`;
    const foreign = await new JwtService({ secret: 'another-secret-another-secret-0123456789' }).signAsync({ sub: 'acc-3', username: 'carol' }, { expiresIn: '1h' });
    const claimless = await jwt.signAsync({ hello: 'world' }, { expiresIn: '1h' });
    for (const token of [forged, foreign, claimless, `${h}.${p}`, 'not-a-jwt']) {
      assert.equal(await auth.verify(token), null, token);
      assert.equal(await auth.verify(token), null, token);
    }
    assert.equal(verifications(), 10, 'every refused token was verified on every call');
    assert.deepEqual(await auth.verify(good), { sub: 'acc-3', username: 'carol' }, 'the genuine token still verifies');
  });
});
