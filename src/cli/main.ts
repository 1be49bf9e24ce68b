import { Command } from 'commander';
import { dlqCommand } from './commands/dlq.js';
import { invokeCommand } from './commands/invoke.js';
import { logsCommand } from './commands/logs.js';
import { lsCommand } from './commands/ls.js';
import { statusCommand } from './commands/status.js';
import { deployCommands } from './commands/deploy.js';
import { upCommand } from './commands/up.js';
import { schemaCommand, validateCommand } from './commands/validate.js';
import { describeError } from './report.js';

// The AWS SDK warns on Node 20 about its own future releases, in eight lines before any output;
// the platform supports Node 20 (package.json engines). Set the variable to "false" to see it.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const program = new Command('faas')
  .description('Self-hosted functions on buckets and webhooks')
  .version('0.1.0')
  .option('--manifest <file>', 'functions manifest (default: $FAAS_MANIFEST or functions/manifest.yaml)')
  .option('--debug', 'print the stack of an error (also FAAS_DEBUG=1)');

upCommand(program);
deployCommands(program);
lsCommand(program);
invokeCommand(program);
logsCommand(program);
statusCommand(program);
dlqCommand(program);
validateCommand(program);
schemaCommand(program);

// The one place a command's error is printed: a user error as one line that says what fixes it,
// anything else as a bug. Commander prints its own usage errors and exits before this.
try {
  await program.parseAsync(process.argv);
} catch (err) {
  const debug = program.opts<{ debug?: boolean }>().debug === true || process.env.FAAS_DEBUG === '1';
  const notDone = program.args[0] === 'deploy' ? 'nothing deployed' : 'nothing started';
  for (const line of describeError(err, debug, notDone).lines) console.error(line);
  // Exit now: a half-started platform may hold sockets or timers that would keep the process up.
  process.exit(1);
}
