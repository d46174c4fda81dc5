// Unit tests of the web (`npm test`): vitest over test/**/*.test.ts, through the same SvelteKit plugin as the build so
// `.svelte.ts` runes modules, `$app/*` and `#lib/*` resolve as in the app. Svelte's browser runtime (the `browser`
// condition), as the pages run it; the environment is Node 22 (global WebSocket, fetch), no DOM.
import { mergeConfig } from 'vite';
import { defineConfig } from 'vitest/config';
import viteConfig from './vite.config.ts';

export default mergeConfig(
	viteConfig,
	defineConfig({
		resolve: { conditions: ['browser'] },
		test: {
			include: ['test/**/*.test.ts'],
			environment: 'node',
			testTimeout: 20_000,
			// One file at a time: the machine is shared, and the realtime tests measure reconnect delays.
			fileParallelism: false,
		},
	}),
);
