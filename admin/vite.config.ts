import { defineConfig } from "vite";

// Served by the Litestar app under /admin; the API is on the same origin, so no CORS and the
// session cookie (SameSite=Lax, HttpOnly) travels with every call.
export default defineConfig({
  base: "/admin/",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 2000,
    rollupOptions: {
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
