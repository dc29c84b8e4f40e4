# One image for every Pushtech service: the services share packages/ and run
# their TypeScript directly on Node 24 (type stripping; no build step).
# The command picks the service, e.g. `node services/tracker/src/index.ts`.
FROM node:24-slim
WORKDIR /app
ENV NODE_ENV=production
# kafkajs 2.2.4 arms a timer with a negative delay on Node ≥ 22 (harmless); keep it off stderr.
ENV NODE_OPTIONS=--disable-warning=TimeoutNegativeWarning
COPY package.json package-lock.json ./
COPY packages ./packages
COPY services ./services
COPY consumers ./consumers
COPY demo ./demo
# The root devDependency `node` (Node 24 for local runs) is not needed: the image has it.
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
# The imageserver's volume: a new named volume takes this directory's owner.
RUN mkdir -p /var/lib/pushtech/images && chown node:node /var/lib/pushtech/images
USER node
EXPOSE 8080
CMD ["node", "services/tracker/src/index.ts"]
