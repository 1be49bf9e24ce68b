import { Command } from 'commander';

const program = new Command('faas')
  .description('Self-hosted functions on buckets and webhooks')
  .version('0.1.0');

await program.parseAsync(process.argv);
