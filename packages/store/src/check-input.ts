import { DEFAULT_MAX_CONTENT_BYTES } from './store-options.js';
import { validateArchiveSelector, type ArchiveSelector } from './validate-archive.js';
import { validateRecallQuery, type RecallQuery } from './validate-recall.js';
import { validateRecordInput, type RememberInput } from './validate-record.js';
import { validateUpdate, type UpdateInput } from './validate-update.js';

/**
 * The checks remember(), recall() and archive() make, without a store: for a program that wants
 * to refuse bad input before it opens (or creates) one, as the `memhub` command line does. Each
 * throws the same StoreValidationError, naming the field, that the call itself would.
 *
 * ```ts
 * checkRememberInput({ content: '', layer: '../x' }); // throws: Invalid content: is empty
 * ```
 */
export function checkRememberInput(input: RememberInput, options: { readonly maxContentBytes?: number } = {}): void {
  validateRecordInput(input, { maxContentBytes: options.maxContentBytes ?? DEFAULT_MAX_CONTENT_BYTES });
}

export function checkRecallQuery(query: RecallQuery): void {
  validateRecallQuery(query);
}

export function checkArchiveSelector(selector: ArchiveSelector): void {
  validateArchiveSelector(selector);
}

export function checkUpdateInput(idOrKey: string, changes: UpdateInput, options: { readonly maxContentBytes?: number } = {}): void {
  validateUpdate(idOrKey, changes, { maxContentBytes: options.maxContentBytes ?? DEFAULT_MAX_CONTENT_BYTES });
}
