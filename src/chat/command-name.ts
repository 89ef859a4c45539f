// The one spelling rule for command names, shared by the dispatcher (which command runs) and
// the guard (which commands spend rate-limit tokens): if they disagreed, "check@x" or "//check"
// would run a check the limiter did not count.

/** "add", "/add", "/add@certwatch_bot", " ADD " → "add". */
export function normalizeCommandName(name: string): string {
  return name.trim().replace(/^\//, '').replace(/@.*$/, '').toLowerCase().slice(0, 64);
}
