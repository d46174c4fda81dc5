import { defineParams } from '@sveltejs/kit/params';
import { isReservedUsername } from '@eventcast/contracts';

export const params = defineParams({
	/**
	 * Channel names: 3–24 of [a-z0-9_], matched case-insensitively and normalised to lower case. The platform's
	 * reserved names (@eventcast/contracts `RESERVED_USERNAMES`, the list sign-up refuses) never match: `/settings`,
	 * `/search`, … are app paths, answered 404 by +error.svelte until their pages exist, not "no channel called …".
	 */
	username: (param) => (/^[A-Za-z0-9_]{3,24}$/.test(param) && !isReservedUsername(param) ? param.toLowerCase() : undefined),
});
