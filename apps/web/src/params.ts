import { defineParams } from '@sveltejs/kit/params';

export const params = defineParams({
	/** Channel names: 3–24 of [a-z0-9_], matched case-insensitively and normalised to lower case. */
	username: (param) => (/^[A-Za-z0-9_]{3,24}$/.test(param) ? param.toLowerCase() : undefined),
});
