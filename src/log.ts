import type { Context } from 'probot';

/** Probot's pino logger; every pipeline gets a child carrying its repository, issue and run. */
export type Logger = Context['log'];
