/** The calwatch release, logged on every line; a unit test keeps it equal to package.json. */
export const CALWATCH_VERSION = '0.1.0';
