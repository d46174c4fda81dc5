import adapter from '@sveltejs/adapter-node';
import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig } from 'vite';

// SvelteKit 3 reads its options from the plugin (svelte.config.js is no longer supported).
export default defineConfig({
	plugins: [
		sveltekit({
			adapter: adapter({ out: 'build' }),
			// Content-Security-Policy (README, "Security headers"): SvelteKit adds a per-response nonce (hashes when
			// prerendered) for its own inline bootstrap script, so no 'unsafe-inline' for scripts. src/hooks.server.ts adds
			// the origins only known at run time (APIs, realtime edge, HLS). Styles keep 'unsafe-inline': components set
			// `style` attributes (colours, sizes); no script can run from a style attribute.
			csp: {
				mode: 'auto',
				directives: {
					'default-src': ['self'],
					'script-src': ['self'],
					'style-src': ['self', 'unsafe-inline'],
					'img-src': ['self', 'data:', 'blob:'],
					'font-src': ['self'],
					// hls.js plays through Media Source Extensions (blob: URLs) and runs its transmuxer in a blob: worker.
					'media-src': ['self', 'blob:'],
					'worker-src': ['self', 'blob:'],
					'connect-src': ['self'],
					'object-src': ['none'],
					'base-uri': ['self'],
					'form-action': ['self'],
					'frame-ancestors': ['none'],
				},
			},
		}),
	],
	server: { port: 3000, host: true },
	preview: { port: 3000, host: true },
	// hls.js (~580 kB) is its own lazily loaded chunk, only on channel pages.
	build: { chunkSizeWarningLimit: 700 },
});
