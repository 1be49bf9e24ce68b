import { Command } from 'commander';
import { dlqCommand } from './commands/dlq.js';
import { invokeCommand } from './commands/invoke.js';
import { logsCommand } from './commands/logs.js';
import { lsCommand } from './commands/ls.js';
import { statusCommand } from './commands/status.js';
import { upCommand } from './commands/up.js';
import { schemaCommand, validateCommand } from './commands/validate.js';

const program = new Command('faas')
  .description('Self-hosted functions on buckets and webhooks')
  .version('0.1.0')
  .option('--manifest <file>', 'functions manifest (default: $FAAS_MANIFEST or functions/manifest.yaml)');

upCommand(program);
lsCommand(program);
invokeCommand(program);
logsCommand(program);
statusCommand(program);
dlqCommand(program);
validateCommand(program);
schemaCommand(program);

await program.parseAsync(process.argv);
