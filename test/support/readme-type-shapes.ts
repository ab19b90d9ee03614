// A ```ts block that shows the shape of a type rather than code: `{ path, state: 'free' | ...,
// holders: HolderInfo[], ... }`, with `// HolderInfo: { pid, threadId, ... }` for a type it names.
// It is not TypeScript, but what it claims can be checked: the fields it lists are the type's
// fields, no more and no fewer. The check is a small TypeScript file, type-checked with the blocks.

/** The fields a shape lists, and the type they are claimed to be. */
export interface Shape {
  readonly typeName: string;
  readonly fields: readonly string[];
}

/**
 * The shapes of a block: its first `{ ... }` is `mainType`; each `// Name: { ... }` comment is
 * the type Name. Fields are the names at the top level of the braces (`name`, `name?`, `name:`),
 * a trailing `...` ignored.
 */
export function readShapes(text: string, mainType: string): Shape[] {
  const shapes: Shape[] = [];
  for (const comment of text.matchAll(/\/\/\s*([A-Z]\w*):\s*(\{.*\})\s*$/gm)) {
    shapes.push({ typeName: comment[1]!, fields: topLevelFields(comment[2]!) });
  }
  const code = text.replace(/(^|\s)\/\/.*$/gm, '$1');
  const start = code.indexOf('{');
  if (start !== -1) shapes.unshift({ typeName: mainType, fields: topLevelFields(code.slice(start)) });
  return shapes;
}

/** The field names at depth 1 of the braces `text` starts with. */
function topLevelFields(text: string): string[] {
  const fields: string[] = [];
  let depth = 0;
  let itemStart = false;
  for (let index = 0; index < text.length; index++) {
    const char = text[index]!;
    if ('{[(<'.includes(char)) {
      depth++;
      if (depth === 1) itemStart = true;
      continue;
    }
    if ('}])>'.includes(char)) {
      depth--;
      if (depth === 0) break;
      continue;
    }
    if (char === "'" || char === '"') {
      index = text.indexOf(char, index + 1);
      continue;
    }
    if (depth !== 1) continue;
    if (char === ',') {
      itemStart = true;
    } else if (itemStart && /[A-Za-z_$]/.test(char)) {
      const name = /^[A-Za-z_$][\w$]*/.exec(text.slice(index))![0];
      const after = text.slice(index + name.length).trimStart();
      if (/^\??\s*[:,}]/.test(after)) fields.push(name);
      itemStart = false;
      index += name.length - 1;
    } else if (!/\s/.test(char)) {
      itemStart = false;
    }
  }
  return fields;
}

/**
 * A TypeScript file that compiles only if `shape` lists exactly the fields of its type, exported
 * by `module`. A difference is a compile error that names the fields: "Type '"none"' is not
 * assignable to type '"releasedAt"'" on the line of the constant saying which way round.
 */
export function shapeCheckSource(shape: Shape, module: string): string {
  const shown = shape.fields.length === 0 ? 'never' : shape.fields.map((field) => `'${field}'`).join(' | ');
  const type = shape.typeName;
  return [
    `import type { ${type} } from '${module}';`,
    `type ${type}Shown = ${shown};`,
    `type ${type}NotShown = Exclude<keyof ${type}, ${type}Shown>;`,
    `type ${type}NotInType = Exclude<${type}Shown, keyof ${type}>;`,
    `export const fieldsOf${type}TheReadmeDoesNotShow: [${type}NotShown] extends [never] ? 'none' : ${type}NotShown = 'none';`,
    `export const fieldsTheReadmeShowsThat${type}HasNot: [${type}NotInType] extends [never] ? 'none' : ${type}NotInType = 'none';`,
    '',
  ].join('\n');
}
