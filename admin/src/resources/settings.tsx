// The association's settings (admins): name, postal address, sender, logo and colour, shown by every
// e-mail and public page. A single record, not a list: one page with its form and, beside it, the
// header of a message as it will look.
import { useEffect, useState, type ChangeEvent } from "react";
import {
  Form,
  Loading,
  RecordContextProvider,
  ResourceContextProvider,
  SaveButton,
  TextInput,
  Title,
  email,
  regex,
  required,
  useNotify,
  useTranslate,
} from "react-admin";
import { useFormContext, useWatch } from "react-hook-form";
import { Alert, Box, Button, Card, CardContent, Stack, Typography } from "@mui/material";
import { HttpError } from "react-admin";
import { api } from "../api";
import { KeepDraft, forgetDraft } from "../KeepDraft";

interface AssociationSettings {
  name: string;
  postal_address: string;
  website: string;
  sender_name: string;
  sender_email: string;
  reply_to: string;
  brand_colour: string;
  logo_url: string;
  version: number;
}

const RESOURCE = "settings";
const RECORD_ID = "association";
const HEX = /^#[0-9a-fA-F]{6}$/;
// The API refuses more (200 KB): say so before the upload.
const LOGO_MAX_BYTES = 200 * 1024;
const MIN_CONTRAST = 4.5;

// WCAG 2.1 contrast of white text on the colour: the API applies the same rule.
export function contrastWithWhite(colour: string): number {
  const channel = (v: number) => {
    const c = v / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  const [r, g, b] = [1, 3, 5].map((i) => channel(parseInt(colour.slice(i, i + 2), 16)));
  return 1.05 / (0.2126 * r + 0.7152 * g + 0.0722 * b + 0.05);
}

function readable(value: string) {
  if (!HEX.test(value ?? "")) return undefined;
  const ratio = contrastWithWhite(value);
  return ratio < MIN_CONTRAST
    ? { message: "crm.settings.low_contrast", args: { ratio: ratio.toFixed(1), min: MIN_CONTRAST } }
    : undefined;
}

function LogoInput({ current }: { current: string }) {
  const translate = useTranslate();
  const { setValue } = useFormContext();
  const logo = useWatch({ name: "logo" }) as string | undefined;
  const removed = useWatch({ name: "remove_logo" }) as boolean | undefined;
  const [error, setError] = useState("");
  const choose = (event: ChangeEvent<HTMLInputElement>) => {
    const file = event.target.files?.[0];
    setError("");
    if (!file) return;
    if (!["image/png", "image/jpeg"].includes(file.type)) return setError(translate("crm.settings.logo_type"));
    if (file.size > LOGO_MAX_BYTES) return setError(translate("crm.settings.logo_size"));
    const reader = new FileReader();
    reader.onload = () => {
      setValue("logo", reader.result as string, { shouldDirty: true });
      setValue("remove_logo", false, { shouldDirty: true });
    };
    reader.readAsDataURL(file);
  };
  const shown = logo || (removed ? "" : current);
  return (
    <Box sx={{ my: 2 }}>
      <Typography component="label" htmlFor="logo-file" variant="subtitle2" sx={{ display: "block" }}>
        {translate("crm.settings.logo")}
      </Typography>
      <Typography variant="body2" color="text.secondary">
        {translate("crm.settings.logo_help")}
      </Typography>
      <Stack direction="row" spacing={2} sx={{ alignItems: "center", mt: 1 }}>
        {/* The browser's own file button speaks the browser's language; this one speaks the app's. */}
        <Button variant="outlined" size="small" component="label">
          {translate(shown ? "crm.settings.replace_logo" : "crm.settings.choose_logo")}
          <input id="logo-file" type="file" accept="image/png,image/jpeg" onChange={choose} hidden />
        </Button>
        {shown && (
          <Button
            size="small"
            onClick={() => {
              setValue("logo", null, { shouldDirty: true });
              setValue("remove_logo", true, { shouldDirty: true });
            }}
          >
            {translate("crm.settings.remove_logo")}
          </Button>
        )}
      </Stack>
      {error && (
        <Alert severity="error" sx={{ mt: 1 }}>
          {error}
        </Alert>
      )}
    </Box>
  );
}

// The top of every message, as the recipient will see it, from what is typed now.
function HeaderPreview({ current }: { current: string }) {
  const translate = useTranslate();
  const [name, colour, logo, removed, postal] = useWatch({
    name: ["name", "brand_colour", "logo", "remove_logo", "postal_address"],
  }) as [string, string, string | null, boolean, string];
  const background = HEX.test(colour ?? "") ? colour : "#1d4ed8";
  const shown = logo || (removed ? "" : current);
  return (
    <Box sx={{ bgcolor: "#f0f4f8", p: 2, borderRadius: 1 }} aria-label={translate("crm.settings.preview")}>
      <Typography variant="subtitle2" sx={{ mb: 1 }}>
        {translate("crm.settings.preview")}
      </Typography>
      <Box sx={{ maxWidth: 600, mx: "auto", bgcolor: "#fff" }}>
        <Box data-testid="preview-header" sx={{ bgcolor: background, color: "#fff", px: 2.5, py: 1.5 }}>
          {shown && (
            <Box
              component="img"
              src={shown}
              alt=""
              sx={{ display: "block", height: 48, width: "auto", bgcolor: "#fff", p: "2px", mb: 1 }}
            />
          )}
          <Typography sx={{ fontWeight: "bold", fontSize: 15 }}>{name}</Typography>
        </Box>
        <Box sx={{ p: 2.5 }}>
          <Typography variant="body2">{translate("crm.settings.preview_body")}</Typography>
          <Box
            component="span"
            sx={{ display: "inline-block", mt: 2, px: 2, py: 1, bgcolor: background, color: "#fff", borderRadius: 1 }}
          >
            {translate("crm.settings.preview_button")}
          </Box>
        </Box>
        <Typography variant="caption" component="p" sx={{ textAlign: "center", color: "#52606d", p: 1.5 }}>
          {translate("crm.settings.preview_footer", { name, postal })}
        </Typography>
      </Box>
    </Box>
  );
}

export function SettingsPage() {
  const translate = useTranslate();
  const notify = useNotify();
  const [record, setRecord] = useState<AssociationSettings | null>(null);
  const [failed, setFailed] = useState("");
  useEffect(() => {
    api<AssociationSettings>("/api/v1/settings")
      .then(setRecord)
      .catch((e: Error) => setFailed(e.message));
  }, []);

  const save = async (values: Record<string, unknown>) => {
    try {
      const saved = await api<AssociationSettings>("/api/v1/settings", {
        method: "PUT",
        body: JSON.stringify({
          name: values.name,
          postal_address: values.postal_address,
          website: values.website,
          sender_name: values.sender_name,
          sender_email: values.sender_email,
          reply_to: values.reply_to || null,
          brand_colour: values.brand_colour,
          logo: values.logo || null,
          remove_logo: Boolean(values.remove_logo),
        }),
      });
      forgetDraft(RESOURCE, RECORD_ID);
      setRecord(saved);
      notify("crm.settings.saved", { type: "info" });
    } catch (e) {
      // What the API refused is shown beside its field; what was typed stays.
      const errors = e instanceof HttpError ? (e.body?.errors as Record<string, string> | undefined) : undefined;
      notify(e instanceof Error ? e.message : String(e), { type: "error" });
      return errors ?? {};
    }
  };

  if (failed) return <Alert severity="error">{failed}</Alert>;
  if (!record) return <Loading />;
  const defaults = { ...record, id: RECORD_ID, logo: null, remove_logo: false };
  return (
    <ResourceContextProvider value={RESOURCE}>
      <RecordContextProvider value={defaults}>
        <Title title={translate("crm.settings.title")} />
        <Card sx={{ mt: 2 }}>
          <CardContent>
            {/* Remounted after a save, so the form starts again from what is stored. */}
            <Form key={record.version} record={defaults} onSubmit={save} mode="onBlur">
              <KeepDraft />
              <Stack direction={{ xs: "column", lg: "row" }} spacing={4}>
                <Box sx={{ flex: 1, minWidth: 0 }}>
                  <Typography variant="body2" color="text.secondary" sx={{ mb: 2 }}>
                    {translate(record.version ? "crm.settings.help" : "crm.settings.help_defaults")}
                  </Typography>
                  <TextInput source="name" label="crm.settings.name" validate={required()} fullWidth />
                  <TextInput source="postal_address" label="crm.settings.postal_address" validate={required()} fullWidth />
                  <TextInput source="website" label="crm.settings.website" type="url" validate={required()} fullWidth />
                  <TextInput source="sender_name" label="crm.settings.sender_name" validate={required()} fullWidth />
                  <TextInput
                    source="sender_email"
                    label="crm.settings.sender_email"
                    type="email"
                    validate={[required(), email()]}
                    fullWidth
                  />
                  <TextInput
                    source="reply_to"
                    label="crm.settings.reply_to"
                    helperText="crm.settings.reply_to_help"
                    type="email"
                    validate={email()}
                    fullWidth
                  />
                  <TextInput
                    source="brand_colour"
                    label="crm.settings.brand_colour"
                    helperText="crm.settings.brand_colour_help"
                    validate={[required(), regex(HEX, "crm.settings.colour_format"), readable]}
                  />
                  <LogoInput current={record.logo_url} />
                  {/* Always enabled: a field checked as it loses focus must not disable the button under the click. */}
                  <SaveButton alwaysEnable />
                </Box>
                <Box sx={{ flex: 1, minWidth: 0 }}>
                  <HeaderPreview current={record.logo_url} />
                </Box>
              </Stack>
            </Form>
          </CardContent>
        </Card>
      </RecordContextProvider>
    </ResourceContextProvider>
  );
}
