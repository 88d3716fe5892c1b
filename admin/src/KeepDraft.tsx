// Nothing typed is lost: a form's values are kept in this browser as they are typed, restored when
// the form opens again (after an expired session, a closed tab or a failed save) and dropped once
// the API has saved them.
import { useEffect } from "react";
import { useFormContext } from "react-hook-form";
import {
  Create,
  Edit,
  useNotify,
  useRecordContext,
  useRedirect,
  useResourceContext,
  type CreateProps,
  type EditProps,
} from "react-admin";

// One draft per form: the resource and the record (or "new") it edits.
const draftKey = (resource: string | undefined, id?: string | number) => `crm.draft:${resource}:${id ?? "new"}`;

// For forms saved outside Create/Edit (a settings page): the draft goes once the API saved it.
export const forgetDraft = (resource: string, id?: string | number) => localStorage.removeItem(draftKey(resource, id));

export function KeepDraft() {
  const storageKey = draftKey(useResourceContext(), useRecordContext()?.id);
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
function useSavedWithDraft(kind: "created" | "updated") {
  const resource = useResourceContext();
  const notify = useNotify();
  const redirect = useRedirect();
  return (data: { id: string | number }) => {
    localStorage.removeItem(draftKey(resource, kind === "created" ? undefined : data.id));
    notify(`ra.notification.${kind}`, { type: "info", messageArgs: { smart_count: 1 } });
    redirect("show", resource, data.id, data);
  };
}

// Create and Edit pages whose forms hold a <KeepDraft />: the draft goes once the API saved it.
export function CreateKeepingDraft(props: CreateProps) {
  return <Create {...props} mutationOptions={{ onSuccess: useSavedWithDraft("created") }} />;
}

export function EditKeepingDraft(props: EditProps) {
  return <Edit mutationMode="pessimistic" {...props} mutationOptions={{ onSuccess: useSavedWithDraft("updated") }} />;
}
