import { describe, expect, it } from 'vitest';
import type { StorageGrant } from '../../src/manifest/types.js';
import { allowed, listScope, unsafeKey } from '../../src/storage/grants.js';

describe('unsafeKey refuses keys that downstream tools would read as paths', () => {
  const refused: Array<[string, string, string]> = [
    ['empty', '', 'empty key'],
    ['parent segment', '../etc/passwd', 'dot segment in key'],
    ['parent segment in the middle', 'a/../b', 'dot segment in key'],
    ['trailing parent segment', 'a/..', 'dot segment in key'],
    ['bare ..', '..', 'dot segment in key'],
    ['current-dir segment', './a', 'dot segment in key'],
    ['current-dir segment in the middle', 'a/./b', 'dot segment in key'],
    ['absolute', '/etc/passwd', 'absolute key'],
    ['encoded slash', 'a%2Fb', 'encoded separator in key'],
    ['encoded slash, lower case', 'a%2fb', 'encoded separator in key'],
    ['encoded backslash', 'a%5cb', 'encoded separator in key'],
    ['encoded dot dot', '%2e%2e/secret', 'encoded separator in key'],
    ['encoded dot dot, upper case', 'a/%2E%2E/b', 'encoded separator in key'],
    ['backslash', 'a\\b', 'control character or backslash in key'],
    ['backslash climb', '..\\secret', 'control character or backslash in key'],
    ['NUL', 'a\u0000b', 'control character or backslash in key'],
    ['newline', 'a\nb', 'control character or backslash in key'],
    ['tab', 'a\tb', 'control character or backslash in key'],
    ['unit separator', 'a\u001fb', 'control character or backslash in key'],
    ['DEL', 'a\u007fb', 'control character or backslash in key'],
    ['1025 bytes', 'a'.repeat(1025), 'key longer than 1024 bytes'],
    // 512 two-byte characters plus one byte: 512 characters, 1025 bytes.
    ['1025 bytes in fewer characters', 'é'.repeat(512) + 'a', 'key longer than 1024 bytes'],
  ];

  it.each(refused)('%s: %j', (_label, key, reason) => {
    expect(unsafeKey(key)).toBe(reason);
  });

  const fine: Array<[string, string]> = [
    ['plain', 'a.csv'],
    ['nested', 'csv/2024/01/report.csv'],
    ['dots inside names', 'a..b/c.d/...'],
    ['leading dot file', '.hidden'],
    ['spaces', 'my folder/my file.txt'],
    ['unicode', 'données/été/日本語.txt'],
    ['emoji', 'pics/🐱.png'],
    ['percent not encoding a separator', 'a%20b%41'],
    ['trailing slash', 'folder/'],
    ['exactly 1024 bytes', 'a'.repeat(1024)],
    ['exactly 1024 bytes of two-byte characters', 'é'.repeat(512)],
  ];

  it.each(fine)('%s: allowed', (_label, key) => {
    expect(unsafeKey(key)).toBeUndefined();
  });
});

describe('allowed', () => {
  const grants: StorageGrant[] = [
    { bucket: 'in', prefix: 'csv/' },
    { bucket: 'archive', prefix: '' },
  ];

  const cases: Array<[string, string, string, boolean]> = [
    ['key under the prefix', 'in', 'csv/a.csv', true],
    ['nested key under the prefix', 'in', 'csv/2024/a.csv', true],
    ['the prefix itself', 'in', 'csv/', true],
    ['sibling prefix sharing the letters', 'in', 'csvx/a', false],
    ['prefix without its slash', 'in', 'csv', false],
    ['key outside the prefix', 'in', 'json/a.json', false],
    ['empty key under a prefix grant', 'in', '', false],
    ['whole-bucket grant: any key', 'archive', 'any/thing.bin', true],
    ['whole-bucket grant: empty key lists the bucket', 'archive', '', true],
    ['bucket not granted at all', 'other', 'csv/a.csv', false],
    ['bucket names match exactly', 'in2', 'csv/a.csv', false],
    ['prefix of one bucket does not apply to another', 'archive2', 'x', false],
  ];

  it.each(cases)('%s: %s/%s → %s', (_label, bucket, key, expected) => {
    expect(allowed(grants, bucket, key)).toBe(expected);
  });

  it('no grants allow nothing', () => {
    expect(allowed([], 'in', 'csv/a.csv')).toBe(false);
  });

  // The manifest rules refuse a prefix grant without a trailing slash, so this is only reachable
  // by building a grant by hand; allowed() itself matches the prefix as a plain string prefix.
  it('a prefix grant without a trailing slash is a plain string prefix', () => {
    expect(allowed([{ bucket: 'in', prefix: 'csv' }], 'in', 'csv-other/a')).toBe(true);
  });
});

describe('listScope narrows a listing to what the grants cover', () => {
  const grants: StorageGrant[] = [
    { bucket: 'in', prefix: 'csv/' },
    { bucket: 'in', prefix: 'json/daily/' },
    { bucket: 'archive', prefix: '' },
  ];

  const cases: Array<[string, string, string, string[]]> = [
    ['whole bucket narrows to each grant', 'in', '', ['csv/', 'json/daily/']],
    ['prefix inside a grant is kept as asked', 'in', 'csv/2024/', ['csv/2024/']],
    ['the grant prefix itself', 'in', 'csv/', ['csv/']],
    ['a partial prefix narrows to the grant', 'in', 'cs', ['csv/']],
    ['a parent of a grant narrows to the grant', 'in', 'json/', ['json/daily/']],
    ['prefix covering no grant', 'in', 'xml/', []],
    ['sibling of a grant', 'in', 'json/weekly/', []],
    ['whole-bucket grant keeps any prefix', 'archive', 'x/y/', ['x/y/']],
    ['whole-bucket grant, empty prefix', 'archive', '', ['']],
    ['bucket not granted', 'other', '', []],
  ];

  it.each(cases)('%s: %s/%j', (_label, bucket, prefix, expected) => {
    expect(listScope(grants, bucket, prefix)).toEqual(expected);
  });
});
