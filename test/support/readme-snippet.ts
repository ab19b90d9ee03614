// A code block of a README, read at test time: the test runs what the README shows today, not a
// copy of it that would go on passing after the README changed.
import { readFileSync } from 'node:fs';

/** The first ```<language> block in the section under the heading `heading` (up to the next heading of its level or above). */
export function readmeCodeBlock(readmePath: string, heading: string, language: string): string {
  const lines = readFileSync(readmePath, 'utf8').split('\n');
  const start = lines.findIndex((line) => line.trim() === heading);
  if (start === -1) throw new Error(`${readmePath} has no heading "${heading}"`);
  const level = heading.match(/^#+/)?.[0].length ?? 1;
  const sectionEnd = lines.findIndex((line, index) => index > start && /^#+\s/.test(line) && line.match(/^#+/)![0].length <= level);
  const section = lines.slice(start + 1, sectionEnd === -1 ? undefined : sectionEnd);
  const open = section.findIndex((line) => line.trim() === '```' + language);
  const close = section.findIndex((line, index) => index > open && line.trim() === '```');
  if (open === -1 || close === -1) throw new Error(`${readmePath} has no \`\`\`${language} block under "${heading}"`);
  return `${section.slice(open + 1, close).join('\n')}\n`;
}
