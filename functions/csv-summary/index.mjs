// Summarizes an uploaded CSV file: row count, columns, and min/max/mean of numeric columns.
// Written as an AWS Lambda S3 handler; it streams the object, so large files fit in 128 MiB.
import { createInterface } from 'node:readline';

function splitCsvLine(line) {
  const cells = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted && ch === '"' && line[i + 1] === '"') {
      cell += '"';
      i++;
    } else if (ch === '"') {
      quoted = !quoted;
    } else if (ch === ',' && !quoted) {
      cells.push(cell);
      cell = '';
    } else {
      cell += ch;
    }
  }
  cells.push(cell);
  return cells;
}

export async function handler(event, context) {
  const out = [];
  for (const record of event.Records) {
    const bucket = record.s3.bucket.name;
    // S3 events carry the key URL-encoded ("sales 2026.csv" arrives as "sales+2026.csv").
    const key = decodeURIComponent(record.s3.object.key.replace(/\+/g, ' '));
    const { body } = await context.storage.getObjectStream(bucket, key);
    let columns;
    let rows = 0;
    const stats = [];
    for await (const line of createInterface({ input: body, crlfDelay: Infinity })) {
      if (line.trim() === '') continue;
      const cells = splitCsvLine(line);
      if (!columns) {
        columns = cells;
        continue;
      }
      rows++;
      cells.forEach((value, i) => {
        const n = Number(value);
        const s = (stats[i] ??= { numeric: true, min: Infinity, max: -Infinity, sum: 0 });
        if (value === '' || Number.isNaN(n)) {
          s.numeric = false;
        } else {
          s.min = Math.min(s.min, n);
          s.max = Math.max(s.max, n);
          s.sum += n;
        }
      });
    }
    const summary = {
      source: `${bucket}/${key}`,
      rows,
      columns: (columns ?? []).map((name, i) => {
        const s = stats[i];
        return s?.numeric && rows > 0 ? { name, min: s.min, max: s.max, mean: s.sum / rows } : { name };
      }),
    };
    const target = `${key}.summary.json`;
    await context.storage.putObject(process.env.SUMMARY_BUCKET, target, JSON.stringify(summary, null, 2), {
      contentType: 'application/json',
    });
    console.log(`summarized ${key}: ${rows} rows -> ${process.env.SUMMARY_BUCKET}/${target}`);
    out.push(target);
  }
  return { written: out };
}
