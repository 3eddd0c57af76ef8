// Finds where a JSON text stops being valid JSON. Node 20's JSON.parse errors do not say where,
// and an operator with a broken config file deserves a line and a column.

/** The offset of the first syntax error in `text`, or -1 if it is valid JSON. */
export function findJsonSyntaxError(text: string): number {
  let at = 0;
  const skipSpace = () => {
    while (at < text.length && ' \t\n\r'.includes(text[at]!)) at++;
  };
  const fail = (): never => {
    throw at;
  };
  const expect = (literal: string) => {
    if (text.startsWith(literal, at)) at += literal.length;
    else fail();
  };
  const string = () => {
    expect('"');
    while (at < text.length && text[at] !== '"') {
      const char = text.charCodeAt(at);
      if (char < 0x20) fail();
      if (text[at] === '\\') {
        at++;
        if (text[at] === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(at + 1, at + 5))) fail();
          at += 4;
        } else if (!'"\\/bfnrt'.includes(text[at] ?? 'x')) fail();
      }
      at++;
    }
    expect('"');
  };
  /** An object's members or an array's elements: past the opening character, through `close`. */
  const items = (close: string, item: () => void): void => {
    at++;
    skipSpace();
    if (text[at] === close) return void at++;
    for (;;) {
      item();
      skipSpace();
      if (text[at] === ',') at++;
      else return expect(close);
    }
  };
  const member = (): void => {
    skipSpace();
    string();
    skipSpace();
    expect(':');
    value();
  };
  const value = (): void => {
    skipSpace();
    const char = text[at];
    if (char === '{') return items('}', member);
    if (char === '[') return items(']', value);
    if (char === '"') return string();
    const number = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(at, at + 400));
    const token = number ? number[0] : ['true', 'false', 'null'].find((word) => text.startsWith(word, at));
    if (token === undefined) return fail();
    at += token.length;
  };
  try {
    value();
    skipSpace();
    if (at !== text.length) fail();
    return -1;
  } catch (offset) {
    if (typeof offset === 'number') return offset;
    throw offset;
  }
}
