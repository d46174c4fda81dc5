// See https://svelte.dev/docs/kit/types#app.d.ts
import type Hls from 'hls.js';

declare global {
	namespace App {
		// interface Error {}
		// interface Locals {}
		// interface PageData {}
		// interface PageState {}
		// interface Platform {}
	}
	interface Window {
		/** The current hls.js instance on the channel page (read by e2e tests and the latency benchmark). */
		__hls?: Hls | null;
	}
}

export {};
