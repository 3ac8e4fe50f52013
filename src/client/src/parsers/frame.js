// Frames: the JSON objects every streaming transport carries (DESIGN.md §3).

/** JSON text → frame object, or null when it is not a JSON object. */
export function parseFrame(text) {
  try {
    const v = JSON.parse(text);
    return v && typeof v === 'object' && !Array.isArray(v) ? v : null;
  } catch {
    return null;
  }
}
