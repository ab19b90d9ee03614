/**
 * Where the store reports what a caller did not ask about but an operator wants to know: a
 * checkpoint starved by readers, recall counts that could not be written yet. The signature is
 * pino's (`logger.warn(details, message)`), so a pino logger can be passed as it is.
 */
export interface StoreLogger {
  warn(details: Record<string, unknown>, message: string): void;
  debug?(details: Record<string, unknown>, message: string): void;
}

export const silentLogger: StoreLogger = { warn: () => {} };
