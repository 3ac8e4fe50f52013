// The client's version; equal to the package's (package.json) and the project's.

/** Version of the Holdfast client (the project's version). */
export const VERSION = '0.1.0';
