# syntax=docker/dockerfile:1
# One image for every Taobi service: `docker run -e SERVICE=scoring taobi` runs services/scoring.
# Stage 1 installs and compiles the workspace; stage 2 keeps only production dependencies and the
# compiled output.
FROM node:20-bookworm-slim AS build
WORKDIR /app
RUN npm install -g pnpm@10.34.9
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml tsconfig.base.json ./
COPY packages ./packages
COPY services ./services
COPY infra ./infra
COPY tests/package.json ./tests/package.json
RUN pnpm install --frozen-lockfile
RUN pnpm -r run build
# Drop dev dependencies (typescript, jest, ...) from node_modules before copying it on.
RUN pnpm install --frozen-lockfile --prod --offline

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production HOST=0.0.0.0
WORKDIR /app
COPY --from=build /app /app
USER node
# SERVICE names a folder under services/; `infra` runs the topic / database preparation step.
ENV SERVICE=""
CMD ["sh", "-c", "if [ \"$SERVICE\" = infra ]; then exec node infra/dist/prepare.js; else exec node services/$SERVICE/dist/main.js; fi"]
