import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { usernameDecider } from './username.decider.js';
import { specFor } from '../specification.js';

const spec = specFor(usernameDecider, assert.deepStrictEqual);
const a = '6c1f0c6e-3b7a-4d8e-9a51-0b5a6f1d2c3e';

describe('username decider', () => {
  it('claims a free username, lower-cased', () => {
    spec.given([]).when({ type: 'ClaimUsername', username: 'Alice', accountId: a }).then([{ type: 'UsernameClaimed', data: { username: 'alice', accountId: a } }]);
  });
  it('refuses names the platform keeps for its own pages, whatever their case', () => {
    for (const username of ['admin', 'Dashboard', 'LOGIN', 'signup']) {
      spec.given([]).when({ type: 'ClaimUsername', username, accountId: a }).thenThrows('username_reserved');
    }
  });
  it('refuses a taken username', () => {
    spec
      .given([{ type: 'UsernameClaimed', data: { username: 'alice', accountId: a } }])
      .when({ type: 'ClaimUsername', username: 'alice', accountId: 'b0000000-0000-4000-8000-000000000001' })
      .thenThrows('username_taken');
  });
});
