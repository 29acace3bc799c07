import { register } from 'node:module';

register('./package-hooks.mjs', import.meta.url);
