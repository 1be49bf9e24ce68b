import { Command } from 'commander';
import { upCommand } from './commands/up.js';
import { schemaCommand, validateCommand } from './commands/validate.js';

const program = new Command('faas')
  .description('Self-hosted functions on buckets and webhooks')
  .version('0.1.0')
  .option('--manifest <file>', 'functions manifest (default: $FAAS_MANIFEST or functions/manifest.yaml)');

upCommand(program);
validateCommand(program);
schemaCommand(program);

await program.parseAsync(process.argv);
