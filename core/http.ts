// Moved to base/http.ts (shared plumbing). This re-export only keeps branches written before the move compiling;
// import from base/ and delete this file once they have landed.
export * from '../base/http.js';
