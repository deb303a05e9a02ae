// @peculiar/x509 resolves its services through tsyringe, which needs a Reflect metadata polyfill loaded first.
// Everything in xoa imports the library through this module so the order is always right.
import 'reflect-metadata'

export * from '@peculiar/x509'
