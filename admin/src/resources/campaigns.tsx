import { useEffect, useRef, useState } from "react";
import {
  ArrayInput,
  AutocompleteInput,
  BooleanInput,
  Datagrid,
  DateField,
  EditButton,
  FormDataConsumer,
  List,
  NumberField,
  ReferenceField,
  ReferenceInput,
  ReferenceManyField,
  SelectField,
  SelectInput,
  Show,
  SimpleForm,
  SimpleFormIterator,
  SimpleShowLayout,
  TextField,
  TextInput,
  TopToolbar,
  required,
  useCanAccess,
  useNotify,
  useRecordContext,
  useRefresh,
  useTranslate,
  Pagination,
} from "react-admin";
import { useWatch } from "react-hook-form";
import {
  Box,
  Button,
  ButtonGroup,
  Card,
  CardContent,
  LinearProgress,
  Stack,
  TextField as MuiTextField,
  Typography,
} from "@mui/material";
import { api } from "../api";
import { deliveryStatusChoices } from "../choices";
import { CreateKeepingDraft, EditKeepingDraft, KeepDraft } from "../KeepDraft";

export const campaignKindChoices = ["newsletter", "announcement", "invitation"].map((id) => ({
  id,
  name: `crm.campaign_kind.${id}`,
}));
export const campaignStatusChoices = ["draft", "scheduled", "running", "paused", "cancelled", "finished"].map((id) => ({
  id,
  name: `crm.campaign_status.${id}`,
}));
const blockChoices = ["heading", "text", "button", "image", "divider"].map((id) => ({ id, name: `crm.block.${id}` }));
const paris = { timeZone: "Europe/Paris" };

export function CampaignList() {
  return (
    <List sort={{ field: "created_at", order: "DESC" }} filters={[<SelectInput key="status" source="status" choices={campaignStatusChoices} alwaysOn />]}>
      <Datagrid rowClick="show" bulkActionButtons={false}>
        <TextField source="name" />
        <SelectField source="kind" choices={campaignKindChoices} sortable={false} />
        <SelectField source="status" choices={campaignStatusChoices} />
        <TextField source="subject" sortable={false} />
        <NumberField source="audience_count" sortable={false} />
        <DateField source="started_at" showTime locales="fr-FR" options={paris} />
      </Datagrid>
    </List>
  );
}

function AudienceInputs() {
  return (
    <>
      <ReferenceInput source="list_id" reference="lists">
        <AutocompleteInput optionText="name" validate={required()} />
      </ReferenceInput>
      <ReferenceInput source="segment_id" reference="segments">
        <AutocompleteInput optionText="name" />
      </ReferenceInput>
    </>
  );
}

export function CampaignCreate() {
  return (
    <CreateKeepingDraft>
      <SimpleForm defaultValues={{ kind: "newsletter", template: "newsletter", content: { blocks: [] } }}>
        <KeepDraft />
        <TextInput source="name" validate={required()} fullWidth />
        <SelectInput source="kind" choices={campaignKindChoices} />
        <SelectInput source="template" choices={campaignKindChoices} />
        <TextInput source="subject" validate={required()} fullWidth />
        <TextInput source="preheader" fullWidth />
        <AudienceInputs />
      </SimpleForm>
    </CreateKeepingDraft>
  );
}

// The real e-mail beside the form: each pause in typing saves the draft and renders it through the
// API, as a recipient would get it; desktop and phone widths.
function LivePreview() {
  const record = useRecordContext();
  const translate = useTranslate();
  const values = useWatch();
  const [html, setHtml] = useState<string>("");
  const [problem, setProblem] = useState<string | null>(null);
  const [width, setWidth] = useState(680);
  const first = useRef(true);
  useEffect(() => {
    if (!record) return;
    const timer = setTimeout(
      async () => {
        try {
          if (!first.current && record.status === "draft") {
            const { subject, preheader, content, template } = values as Record<string, unknown>;
            await api(`/api/v1/campaigns/${record.id}`, {
              method: "PATCH",
              body: JSON.stringify({ subject, preheader: preheader || null, content, template }),
            });
          }
          first.current = false;
          setHtml(await api<string>(`/api/v1/campaigns/${record.id}/preview`));
          setProblem(null);
        } catch (error) {
          setProblem((error as Error).message);
        }
      },
      first.current ? 0 : 800,
    );
    return () => clearTimeout(timer);
  }, [record, JSON.stringify(values)]); // eslint-disable-line react-hooks/exhaustive-deps
  return (
    <Box sx={{ flex: "1 1 420px", minWidth: 340 }}>
      <Stack direction="row" spacing={1} alignItems="center" sx={{ mb: 1 }}>
        <Typography variant="h6" component="h2">
          {translate("crm.campaigns.preview")}
        </Typography>
        <ButtonGroup size="small" aria-label={translate("crm.campaigns.width")}>
          <Button variant={width === 680 ? "contained" : "outlined"} onClick={() => setWidth(680)}>
            {translate("crm.campaigns.desktop")}
          </Button>
          <Button variant={width === 375 ? "contained" : "outlined"} onClick={() => setWidth(375)}>
            {translate("crm.campaigns.phone")}
          </Button>
        </ButtonGroup>
      </Stack>
      {problem && (
        <Typography color="error" role="alert">
          {problem}
        </Typography>
      )}
      <iframe
        title={translate("crm.campaigns.preview")}
        data-testid="campaign-preview"
        sandbox=""
        srcDoc={html}
        style={{ width, maxWidth: "100%", height: 720, border: "1px solid #ccc", background: "#fff" }}
      />
    </Box>
  );
}

function BlockFields() {
  return (
    <FormDataConsumer<{ type?: string }>>
      {({ scopedFormData }) => {
        switch (scopedFormData?.type) {
          case "heading":
            return <TextInput source="text" label="crm.block.heading" fullWidth validate={required()} />;
          case "text":
            return (
              <TextInput
                source="text"
                label="crm.block.text"
                multiline
                minRows={4}
                fullWidth
                validate={required()}
                helperText="{{ first_name }}, {{ last_name }}, {{ full_name }}, {{ organisation }}"
              />
            );
          case "button":
            return (
              <>
                <TextInput source="label" label="crm.block.label" validate={required()} />
                <TextInput source="url" label="crm.block.url" fullWidth validate={required()} />
              </>
            );
          case "image":
            return (
              <>
                <TextInput source="url" label="crm.block.url" fullWidth validate={required()} />
                <TextInput source="alt" label="crm.block.alt" fullWidth />
              </>
            );
          default:
            return null;
        }
      }}
    </FormDataConsumer>
  );
}

function CampaignEditForm() {
  return (
    <SimpleForm>
      <KeepDraft />
      <Box sx={{ display: "flex", gap: 3, flexWrap: "wrap", alignItems: "flex-start", width: "100%" }}>
        <Box sx={{ flex: "1 1 420px", minWidth: 320 }}>
          <TextInput source="name" validate={required()} fullWidth />
          <TextInput source="subject" validate={required()} fullWidth />
          <TextInput source="preheader" fullWidth />
          <SelectInput source="template" choices={campaignKindChoices} />
          <AudienceInputs />
          <BooleanInput source="is_public" />
          <ArrayInput source="content.blocks" label="crm.campaigns.blocks">
            <SimpleFormIterator inline={false}>
              <SelectInput source="type" choices={blockChoices} label="crm.block.type" validate={required()} />
              <BlockFields />
            </SimpleFormIterator>
          </ArrayInput>
        </Box>
        <LivePreview />
      </Box>
    </SimpleForm>
  );
}

export function CampaignEdit() {
  return (
    <EditKeepingDraft>
      <CampaignEditForm />
    </EditKeepingDraft>
  );
}

interface Progress {
  status: string;
  paused_reason: string | null;
  audience: number | null;
  suppressed: number | null;
  queued: number;
  leased: number;
  sent: number;
  failed: number;
  bounced: number;
  unsubscribed: number;
  cancelled: number;
}

// Polls while the campaign moves; each figure comes from PostgreSQL, not from the worker's memory.
function ProgressPanel() {
  const record = useRecordContext();
  const translate = useTranslate();
  const notify = useNotify();
  const refresh = useRefresh();
  const { canAccess: mayAct } = useCanAccess({ resource: "campaigns", action: "edit" });
  const [progress, setProgress] = useState<Progress | null>(null);
  const [when, setWhen] = useState("");
  const [audience, setAudience] = useState<{ to_send: number; suppressed: number } | null>(null);
  useEffect(() => {
    if (record?.status !== "draft") return;
    api<{ to_send: number; suppressed: number }>(`/api/v1/campaigns/${record.id}/audience`).then(setAudience, () => null);
  }, [record]);
  useEffect(() => {
    if (!record) return;
    let live = true;
    let timer: ReturnType<typeof setTimeout>;
    const poll = async () => {
      try {
        const p = await api<Progress>(`/api/v1/campaigns/${record.id}/progress`);
        if (!live) return;
        setProgress(p);
        if (p.status === "running" || p.status === "scheduled") timer = setTimeout(poll, 1500);
        else if (p.status !== record.status) refresh();
      } catch {
        if (live) timer = setTimeout(poll, 5000);
      }
    };
    poll();
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [record, refresh]);
  if (!record) return null;
  const act = async (path: string, body: object = {}, message = "crm.campaigns.done") => {
    try {
      await api(`/api/v1/campaigns/${record.id}/${path}`, { method: "POST", body: JSON.stringify(body) });
      notify(message, { type: "info" });
      refresh();
    } catch (error) {
      notify((error as Error).message, { type: "error" });
    }
  };
  const done = progress ? progress.sent + progress.failed + progress.bounced + progress.unsubscribed + progress.cancelled : 0;
  const target = progress?.audience ? progress.audience - (progress.suppressed ?? 0) : 0;
  const percent = target ? Math.round((100 * done) / target) : 0;
  return (
    <Card sx={{ mb: 2 }}>
      <CardContent>
        {progress && progress.audience !== null && (
          <Box sx={{ mb: 2 }}>
            <Typography>
              {translate("crm.campaigns.progress", { done, target, percent })}
            </Typography>
            <LinearProgress
              variant="determinate"
              value={percent}
              aria-label={translate("crm.campaigns.progress_label")}
              aria-valuetext={`${percent} %`}
              data-testid="campaign-progress"
              data-percent={percent}
              sx={{ height: 12, borderRadius: 1 }}
            />
            <Typography variant="body2" color="text.secondary">
              {translate("crm.campaigns.figures", { ...progress })}
            </Typography>
          </Box>
        )}
        {record.paused_reason && <Typography color="warning.main">{record.paused_reason}</Typography>}
        {audience && (
          <Typography sx={{ mb: 1 }} data-testid="campaign-audience">
            {translate("crm.campaigns.audience", { smart_count: audience.to_send, suppressed: audience.suppressed })}
          </Typography>
        )}
        {mayAct && (
          <Stack direction="row" spacing={1} flexWrap="wrap" useFlexGap>
            <Button variant="outlined" onClick={() => act("test", {}, "crm.campaigns.test_sent")}>
              {translate("crm.campaigns.test")}
            </Button>
            {record.status === "draft" && (
              <>
                <Button variant="contained" onClick={() => act("send", {}, "crm.campaigns.sending")}>
                  {translate("crm.campaigns.send")}
                </Button>
                <MuiTextField
                  type="datetime-local"
                  size="small"
                  label={translate("crm.campaigns.when")}
                  value={when}
                  onChange={(e) => setWhen(e.target.value)}
                  slotProps={{ inputLabel: { shrink: true } }}
                />
                <Button variant="outlined" disabled={!when} onClick={() => act("schedule", { scheduled_at: when })}>
                  {translate("crm.campaigns.schedule")}
                </Button>
              </>
            )}
            {(record.status === "running" || record.status === "scheduled") && (
              <Button onClick={() => act("pause")}>{translate("crm.campaigns.pause")}</Button>
            )}
            {record.status === "paused" && <Button onClick={() => act("resume")}>{translate("crm.campaigns.resume")}</Button>}
            {["scheduled", "running", "paused"].includes(record.status) && (
              <Button color="error" onClick={() => act("cancel")}>
                {translate("crm.campaigns.cancel")}
              </Button>
            )}
          </Stack>
        )}
      </CardContent>
    </Card>
  );
}

// EditButton hides itself from roles that may not edit; only drafts are edited at all.
function ShowActions() {
  const record = useRecordContext();
  return <TopToolbar>{record?.status === "draft" && <EditButton />}</TopToolbar>;
}

export function CampaignShow() {
  return (
    <Show actions={<ShowActions />}>
      <SimpleShowLayout>
        <ProgressPanel />
        <TextField source="name" />
        <SelectField source="status" choices={campaignStatusChoices} />
        <TextField source="subject" />
        <ReferenceField source="list_id" reference="lists" link={false}>
          <TextField source="name" />
        </ReferenceField>
        <DateField source="scheduled_at" showTime locales="fr-FR" options={paris} emptyText="—" />
        <DateField source="started_at" showTime locales="fr-FR" options={paris} emptyText="—" />
        <ReferenceManyField reference="deliveries" target="campaign_id" label="crm.campaigns.deliveries" pagination={<Pagination />}>
          <Datagrid bulkActionButtons={false}>
            <TextField source="email" label="resources.people.fields.email" />
            <SelectField source="status" choices={deliveryStatusChoices} label="crm.campaigns.delivery_status" />
            <NumberField source="attempts" label="crm.campaigns.attempts" />
            <DateField source="sent_at" showTime locales="fr-FR" options={paris} label="crm.campaigns.sent_at" />
            <TextField source="smtp_response" label="crm.campaigns.smtp_response" />
          </Datagrid>
        </ReferenceManyField>
      </SimpleShowLayout>
    </Show>
  );
}
