import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runMediaStorageContract } from './contract.js';
import { LocalDiskStorage } from './local.js';

runMediaStorageContract('media storage contract: local disk', async () => {
  const root = await mkdtemp(path.join(tmpdir(), 'media-storage-'));
  return { storage: new LocalDiskStorage(root), cleanup: () => rm(root, { recursive: true, force: true }) };
});
