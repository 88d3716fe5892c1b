import { defineConfig } from "vite";

// Served by the Litestar app under /admin; the API is on the same origin, so no CORS and the
// session cookie (SameSite=Lax, HttpOnly) travels with every call.
export default defineConfig({
  base: "/admin/",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: false,
    // The largest chunk left is react-admin with MUI, which every screen needs.
    chunkSizeWarningLimit: 1000,
    rolldownOptions: {
      output: {
        // The libraries in chunks of their own change less often than the app: a new release of
        // the app leaves them cached in the browser. Screens load on demand (src/lazy.tsx).
        codeSplitting: {
          // A group takes only the modules it names, not the libraries they use (React would
          // otherwise follow recharts into the charts chunk).
          includeDependenciesRecursively: false,
          groups: [
            { name: "react", priority: 2, test: /node_modules[\\/](react|react-dom|scheduler|react-router|react-router-dom)[\\/]/ },
            // Only the dashboard's charts use these (react-admin shares eventemitter3, so it is not here).
            {
              name: "charts",
              priority: 3,
              test: /node_modules[\\/](recharts|d3-[a-z-]+|victory-vendor|decimal\.js-light|@reduxjs|redux|immer|reselect|react-redux|es-toolkit)[\\/]/,
            },
            { name: "admin-kit", priority: 1, test: /node_modules[\\/]/ },
          ],
        },
      },
      // MUI marks its modules "use client" for server components; a plain SPA has none to keep.
      onwarn(warning, warn) {
        if (warning.code === "MODULE_LEVEL_DIRECTIVE") return;
        warn(warning);
      },
    },
  },
  server: {
    proxy: { "/api": "http://127.0.0.1:8000" },
  },
});
