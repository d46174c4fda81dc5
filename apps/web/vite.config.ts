import adapter from '@sveltejs/adapter-node';
import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig } from 'vite';

// SvelteKit 3 reads its options from the plugin (svelte.config.js is no longer supported).
export default defineConfig({
	plugins: [
		sveltekit({
			adapter: adapter({ out: 'build' }),
		}),
	],
	server: { port: 3000, host: true },
	preview: { port: 3000, host: true },
	// hls.js (~580 kB) is its own lazily loaded chunk, only on channel pages.
	build: { chunkSizeWarningLimit: 700 },
});
