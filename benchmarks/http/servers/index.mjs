/** The servers of each HTTP family, by family id. */
import express from './express.mjs';
import fastify from './fastify.mjs';
import node from './node.mjs';
import overload from './overload.mjs';

export const serverVariants = {
  'http-fastify': fastify,
  'http-express': express,
  'http-node': node,
  'http-overload': overload,
};
