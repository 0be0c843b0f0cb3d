# One image recipe for every app; the app is chosen by build argument:
#   docker build --build-arg APP=tasks-api -t tasks-api .
# APP is an app from apps.ts (tasks-api, task-events, ...), a single
# function's name, or `all`. daprd runs beside it as the Dapr sidecar.
ARG NODE_VERSION=24.21.0

FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts && npm rebuild esbuild
COPY tsconfig.json build.mjs apps.ts main.ts ./
COPY scripts/lib/left-out.ts scripts/lib/one-copy.ts scripts/lib/source-map-trim.ts ./scripts/lib/
COPY shared ./shared
COPY tasks ./tasks
COPY functions ./functions
RUN node build.mjs --suite=tasks

FROM node:${NODE_VERSION}-bookworm-slim
ARG APP=tasks-api
ENV NODE_ENV=production APP_BUNDLE=/app/${APP}.mjs HOST=0.0.0.0 PORT=8080
WORKDIR /app
COPY --from=build /src/dist/${APP}.mjs /src/dist/${APP}.mjs.map ./
COPY --from=build /src/dist/docs ./docs
USER node
EXPOSE 8080
CMD ["sh", "-c", "exec node --enable-source-maps \"$APP_BUNDLE\""]
