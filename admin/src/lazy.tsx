// Screens loaded when first opened, so the first load of /admin and of the members list carries
// only what they show (route-level code splitting: one chunk per group of screens).
import { type ComponentType, lazy, Suspense } from "react";
import { Loading } from "react-admin";

export function lazyScreen<M>(load: () => Promise<M>, name: keyof M & string): ComponentType {
  const Screen = lazy(() => load().then((module) => ({ default: module[name] as ComponentType })));
  function LazyScreen() {
    return (
      <Suspense fallback={<Loading />}>
        <Screen />
      </Suspense>
    );
  }
  LazyScreen.displayName = `Lazy(${name})`;
  return LazyScreen;
}
