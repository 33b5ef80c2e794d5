/** Errors are values with a code and a message a person can act on. */
export interface SweepError {
  readonly code: string;
  readonly message: string;
  readonly roleName?: string;
  readonly grant?: string;
}

/** The code and message of anything thrown (SDK errors carry `name`). */
export function errorOf(e: unknown, fallbackCode = 'UNEXPECTED'): { code: string; message: string } {
  if (e && typeof e === 'object') {
    const err = e as { code?: unknown; name?: unknown; message?: unknown };
    const code = typeof err.code === 'string' ? err.code : typeof err.name === 'string' && err.name !== 'Error' ? err.name : fallbackCode;
    return { code, message: typeof err.message === 'string' ? err.message : String(e) };
  }
  return { code: fallbackCode, message: String(e) };
}

/** True when an SDK error says the entity is already gone (deleting it again is done). */
export function isNoSuchEntity(e: unknown): boolean {
  const name = (e as { name?: string } | undefined)?.name;
  return name === 'NoSuchEntityException' || name === 'NoSuchEntity' || name === 'ResourceNotFoundException';
}
