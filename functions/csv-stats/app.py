"""A Lambda Python S3 handler, unchanged: reads the uploaded CSV with the standard library and
writes per-column statistics beside it with boto3 (no endpoint or credentials to configure)."""
import csv
import io
import json
import logging
import os
import statistics
from urllib.parse import unquote_plus

import boto3

logger = logging.getLogger()
logger.setLevel(logging.INFO)
s3 = boto3.client("s3")


def handler(event, context):
    record = event["Records"][0]["s3"]
    bucket, key = record["bucket"]["name"], unquote_plus(record["object"]["key"])
    text = s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    columns = {}
    for name in rows[0].keys() if rows else []:
        try:
            values = [float(r[name]) for r in rows]
        except ValueError:
            columns[name] = {"distinct": len({r[name] for r in rows})}
            continue
        columns[name] = {"min": min(values), "max": max(values), "mean": round(statistics.fmean(values), 4)}
    summary = {"source": key, "rows": len(rows), "columns": columns, "by": context.function_name}
    out = key + ".stats.json"
    s3.put_object(Bucket=os.environ["SUMMARY_BUCKET"], Key=out, Body=json.dumps(summary, indent=2), ContentType="application/json")
    logger.info("summarised %d rows of s3://%s/%s", len(rows), bucket, key)
    return summary
