// Nothing typed is lost: a form's values are kept in this browser as they are typed, restored when
// the form opens again (after an expired session, a closed tab or a failed save) and dropped once
// the API has saved them.
import { useEffect } from "react";
import { useFormContext } from "react-hook-form";
import { useNotify, useRedirect } from "react-admin";

export const draftKey = (resource: string, id?: string | number) => `crm.draft:${resource}:${id ?? "new"}`;

export function dropDraft(key: string) {
  localStorage.removeItem(key);
}

export function KeepDraft({ storageKey }: { storageKey: string }) {
  const { watch, reset, getValues } = useFormContext();
  const notify = useNotify();
  useEffect(() => {
    // After react-admin's own effects: the form resets itself to the record once mounted, which
    // would wipe a draft restored any earlier.
    const restore = setTimeout(() => {
      const raw = localStorage.getItem(storageKey);
      if (!raw) return;
      try {
        reset({ ...getValues(), ...JSON.parse(raw) }, { keepDefaultValues: true });
        notify("crm.draft_restored", { type: "info" });
      } catch {
        localStorage.removeItem(storageKey);
      }
    }, 0);
    const subscription = watch((values, { type }) => {
      if (type === "change") localStorage.setItem(storageKey, JSON.stringify(values));
    });
    return () => {
      clearTimeout(restore);
      subscription.unsubscribe();
    };
    // Runs once per form: restoring on every render would fight the user's typing.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [storageKey]);
  return null;
}

// Passing onSuccess replaces react-admin's own (notify, redirect): do both, and forget the draft.
export function useSavedWithDraft(resource: string, kind: "created" | "updated") {
  const notify = useNotify();
  const redirect = useRedirect();
  return (data: { id: string | number }) => {
    dropDraft(draftKey(resource, kind === "created" ? undefined : data.id));
    notify(`ra.notification.${kind}`, { type: "info", messageArgs: { smart_count: 1 } });
    redirect("show", resource, data.id, data);
  };
}
