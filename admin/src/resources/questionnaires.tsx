// Questionnaires: the builder (sections of questions, conditions, versions by publishing), sending,
// live results as charts, the CSV export and the archive; for the label's year, the jury's scores
// side by side and the decisions.
import { lazy, Suspense, useEffect, useState } from "react";
import {
  ArrayInput,
  BooleanInput,
  ChipField,
  Create,
  Datagrid,
  DateField,
  DateInput,
  DateTimeInput,
  Edit,
  FormDataConsumer,
  List,
  NumberField,
  NumberInput,
  SelectInput,
  SimpleForm,
  SimpleFormIterator,
  TextField,
  TextInput,
  TopToolbar,
  required,
  useNotify,
  useRecordContext,
  useRedirect,
  useRefresh,
  useTranslate,
  useGetList,
  Loading,
} from "react-admin";
import {
  Box,
  Button,
  Card,
  CardContent,
  MenuItem,
  Stack,
  Table,
  TableBody,
  TableCell,
  TableHead,
  TableRow,
  TextField as MuiTextField,
  Typography,
} from "@mui/material";
import { api } from "../api";

const AnswerBars = lazy(() => import("../charts").then((m) => ({ default: m.AnswerBars })));

const TYPES = [
  "short_text",
  "long_text",
  "single_choice",
  "multiple_choice",
  "scale",
  "number",
  "date",
  "yes_no",
  "file",
];
type Rec = Record<string, unknown>;

function useChoices(prefix: string, ids: string[]) {
  const translate = useTranslate();
  return ids.map((id) => ({ id, name: translate(`crm.questionnaires.${prefix}.${id}`) }));
}

// The form keeps empty inputs the API would refuse: a condition with no question, choices on a text.
function cleanContent(data: Rec): Rec {
  const content = data.content as { sections?: { questions?: Rec[] }[] } | undefined;
  if (!content?.sections) return data;
  const sections = content.sections.map((section) => ({
    ...section,
    questions: (section.questions ?? []).map((q) => {
      const out: Rec = { ...q };
      const condition = q.show_if as { question?: string; equals?: string } | null | undefined;
      if (!condition?.question || !condition?.equals) delete out.show_if;
      if (q.type !== "single_choice" && q.type !== "multiple_choice") out.choices = [];
      for (const key of ["min", "max", "help"]) if (out[key] === "" || out[key] === null) delete out[key];
      return out;
    }),
  }));
  return { ...data, content: { ...content, sections } };
}

export function QuestionnaireList() {
  const kinds = useChoices("kind", ["survey", "label_application"]);
  return (
    <List sort={{ field: "created_at", order: "DESC" }} actions={<TopToolbar><OpenLabelYear /></TopToolbar>}>
      <Datagrid rowClick="edit" bulkActionButtons={false}>
        <TextField source="title" />
        <SelectFieldOf source="kind" choices={kinds} />
        <ChipField source="status" />
        <NumberField source="label_year" options={{ useGrouping: false }} />
        <DateField source="created_at" />
      </Datagrid>
    </List>
  );
}

function SelectFieldOf({ source, choices }: { source: string; choices: { id: string; name: string }[]; label?: string }) {
  const record = useRecordContext();
  const value = record?.[source];
  return <span>{choices.find((c) => c.id === value)?.name ?? String(value ?? "")}</span>;
}

function OpenLabelYear() {
  const translate = useTranslate();
  const notify = useNotify();
  const redirect = useRedirect();
  const [year, setYear] = useState(new Date().getFullYear());
  const open = async () => {
    try {
      const answer = await api<{ questionnaire: { id: string }; invited: number }>("/api/v1/questionnaires/label-years", {
        method: "POST",
        body: JSON.stringify({ year }),
      });
      notify("crm.questionnaires.label_opened", { messageArgs: { invited: answer.invited } });
      redirect("edit", "questionnaires", answer.questionnaire.id);
    } catch (error) {
      notify((error as Error).message, { type: "error" });
    }
  };
  return (
    <Stack direction="row" spacing={1} alignItems="center">
      <MuiTextField size="small" type="number" label={translate("crm.questionnaires.year")} value={year} onChange={(e) => setYear(Number(e.target.value))} sx={{ width: 110 }} />
      <Button onClick={open}>{translate("crm.questionnaires.open_label")}</Button>
    </Stack>
  );
}

export function QuestionnaireCreate() {
  const kinds = useChoices("kind", ["survey", "label_application"]);
  const answeredBy = useChoices("answered_by", ["person", "organisation"]);
  return (
    <Create redirect="edit">
      <SimpleForm defaultValues={{ kind: "survey", answered_by: "person", anonymous: false, content: { sections: [] } }}>
        <TextInput source="title" validate={required()} fullWidth />
        <SelectInput source="kind" choices={kinds} validate={required()} />
        <FormDataConsumer>
          {({ formData }) => formData.kind === "label_application" && <NumberInput source="label_year" />}
        </FormDataConsumer>
        <SelectInput source="answered_by" choices={answeredBy} validate={required()} />
        <BooleanInput source="anonymous" />
      </SimpleForm>
    </Create>
  );
}

function Builder() {
  const types = useChoices("type", TYPES);
  return (
    <ArrayInput source="content.sections">
      <SimpleFormIterator inline={false}>
        <TextInput source="title" fullWidth />
        <TextInput source="help" fullWidth />
        <ArrayInput source="questions">
          <SimpleFormIterator inline>
            <TextInput source="key" validate={required()} helperText="crm.questionnaires.key_help" />
            <TextInput source="label" validate={required()} sx={{ minWidth: 320 }} />
            <SelectInput source="type" choices={types} validate={required()} />
            <BooleanInput source="required" />
            <TextInput source="help" />
            <FormDataConsumer>
              {({ scopedFormData }) =>
                scopedFormData && ["single_choice", "multiple_choice"].includes(scopedFormData.type) ? (
                  <ArrayInput source="choices">
                    <SimpleFormIterator inline disableReordering>
                      <TextInput source="" />
                    </SimpleFormIterator>
                  </ArrayInput>
                ) : scopedFormData && ["scale", "number"].includes(scopedFormData.type) ? (
                  <Stack direction="row" spacing={1}>
                    <NumberInput source="min" />
                    <NumberInput source="max" />
                  </Stack>
                ) : null
              }
            </FormDataConsumer>
            <TextInput source="show_if.question" helperText="crm.questionnaires.show_if_help" />
            <TextInput source="show_if.equals" />
          </SimpleFormIterator>
        </ArrayInput>
      </SimpleFormIterator>
    </ArrayInput>
  );
}

function Actions() {
  const record = useRecordContext();
  const translate = useTranslate();
  const notify = useNotify();
  const refresh = useRefresh();
  if (!record) return null;
  const call = async (path: string, message: string) => {
    try {
      await api(`/api/v1/questionnaires/${record.id}/${path}`, { method: "POST" });
      notify(message);
      refresh();
    } catch (error) {
      notify((error as Error).message, { type: "error" });
    }
  };
  return (
    <TopToolbar>
      <Typography variant="body2" sx={{ mr: 2, alignSelf: "center" }}>
        {translate(`crm.questionnaires.status.${record.status}`)}
        {record.current_version ? ` · ${translate("crm.questionnaires.version", { n: record.current_version })}` : ""}
      </Typography>
      <Button onClick={() => call("publish", "crm.questionnaires.published")}>{translate("crm.questionnaires.publish")}</Button>
      {record.status === "open" && <Button onClick={() => call("close", "crm.questionnaires.closed")}>{translate("crm.questionnaires.close")}</Button>}
    </TopToolbar>
  );
}

export function QuestionnaireEdit() {
  const answeredBy = useChoices("answered_by", ["person", "organisation"]);
  return (
    <Edit actions={<Actions />} transform={cleanContent} mutationMode="pessimistic">
      <SimpleForm>
        <TextInput source="title" validate={required()} fullWidth />
        <TextInput source="description" multiline fullWidth />
        <Stack direction="row" spacing={2}>
          <SelectInput source="answered_by" choices={answeredBy} />
          <BooleanInput source="anonymous" />
          <DateTimeInput source="closes_at" />
        </Stack>
        <ArrayInput source="reminder_dates">
          <SimpleFormIterator inline disableReordering>
            <DateInput source="" />
          </SimpleFormIterator>
        </ArrayInput>
        <Builder />
        <SendPanel />
        <ResultsPanel />
        <ScoresPanel />
      </SimpleForm>
    </Edit>
  );
}

function SendPanel() {
  const record = useRecordContext();
  const translate = useTranslate();
  const notify = useNotify();
  const { data: segments } = useGetList("segments", { pagination: { page: 1, perPage: 100 }, sort: { field: "name", order: "ASC" } });
  const { data: lists } = useGetList("lists", { pagination: { page: 1, perPage: 100 }, sort: { field: "name", order: "ASC" } });
  const [segment, setSegment] = useState("");
  const [list, setList] = useState("");
  if (!record || record.status !== "open") return null;
  const send = async () => {
    try {
      const answer = await api<{ invited: number; already: number }>(`/api/v1/questionnaires/${record.id}/send`, {
        method: "POST",
        body: JSON.stringify({ segment_id: segment || null, list_id: list || null }),
      });
      notify("crm.questionnaires.sent", { messageArgs: answer });
    } catch (error) {
      notify((error as Error).message, { type: "error" });
    }
  };
  return (
    <Card variant="outlined" sx={{ width: "100%", mt: 2 }}>
      <CardContent>
        <Typography variant="h6">{translate("crm.questionnaires.send")}</Typography>
        <Stack direction="row" spacing={2} sx={{ mt: 1 }}>
          <MuiTextField select size="small" label={translate("resources.segments.name", { smart_count: 1 })} value={segment} onChange={(e) => setSegment(e.target.value)} sx={{ minWidth: 220 }}>
            <MenuItem value="">—</MenuItem>
            {(segments ?? []).map((s) => <MenuItem key={s.id} value={s.id}>{s.name}</MenuItem>)}
          </MuiTextField>
          <MuiTextField select size="small" label={translate("resources.lists.name", { smart_count: 1 })} value={list} onChange={(e) => setList(e.target.value)} sx={{ minWidth: 220 }}>
            <MenuItem value="">—</MenuItem>
            {(lists ?? []).map((l) => <MenuItem key={l.id} value={l.id}>{l.name}</MenuItem>)}
          </MuiTextField>
          <Button variant="contained" onClick={send} disabled={!segment && !list}>{translate("crm.questionnaires.send_button")}</Button>
        </Stack>
      </CardContent>
    </Card>
  );
}

type Count = { value: string | number; count: number; percent: number };
type QuestionResult = {
  key: string;
  label: string;
  type: string;
  answered: number;
  counts?: Count[];
  mean?: number;
  texts?: string[];
  by_region?: Record<string, Record<string, number>>;
  by_population_band?: Record<string, Record<string, number>>;
};

function Distribution({ title, rows }: { title: string; rows: Record<string, Record<string, number>> }) {
  const values = Array.from(new Set(Object.values(rows).flatMap((r) => Object.keys(r))));
  return (
    <Table size="small" sx={{ mt: 1 }}>
      <TableHead>
        <TableRow>
          <TableCell>{title}</TableCell>
          {values.map((v) => <TableCell key={v} align="right">{v}</TableCell>)}
        </TableRow>
      </TableHead>
      <TableBody>
        {Object.entries(rows).map(([group, counts]) => (
          <TableRow key={group}>
            <TableCell>{group}</TableCell>
            {values.map((v) => <TableCell key={v} align="right">{counts[v] ?? 0}</TableCell>)}
          </TableRow>
        ))}
      </TableBody>
    </Table>
  );
}

function ResultsPanel() {
  const record = useRecordContext();
  const translate = useTranslate();
  const notify = useNotify();
  const [data, setData] = useState<{ submitted: number; questions: QuestionResult[] } | null>(null);
  useEffect(() => {
    if (!record?.current_version) return;
    // Live: the results follow the answers while the page is open.
    const load = () => api<{ submitted: number; questions: QuestionResult[] }>(`/api/v1/questionnaires/${record.id}/results`).then(setData).catch(() => undefined);
    load();
    const timer = setInterval(load, 15000);
    return () => clearInterval(timer);
  }, [record?.id, record?.current_version]);
  if (!record?.current_version) return null;
  if (!data) return <Loading />;
  const publish = async () => {
    try {
      await api(`/api/v1/questionnaires/${record.id}/results/publish`, { method: "POST" });
      notify("crm.questionnaires.results_published");
    } catch (error) {
      notify((error as Error).message, { type: "error" });
    }
  };
  return (
    <Card variant="outlined" sx={{ width: "100%", mt: 2 }}>
      <CardContent>
        <Stack direction="row" spacing={2} alignItems="center">
          <Typography variant="h6">{translate("crm.questionnaires.results", { n: data.submitted })}</Typography>
          <Button href={`/api/v1/questionnaires/${record.id}/results.csv`}>{translate("crm.questionnaires.export")}</Button>
          <Button onClick={publish}>{translate("crm.questionnaires.publish_results")}</Button>
        </Stack>
        {data.questions.map((q) => (
          <Box key={q.key} sx={{ mt: 3 }}>
            <Typography variant="subtitle1">{q.label}</Typography>
            <Typography variant="body2" color="text.secondary">
              {translate("crm.questionnaires.answered", { n: q.answered })}
              {q.mean !== undefined ? ` · ${translate("crm.questionnaires.mean", { mean: q.mean })}` : ""}
            </Typography>
            {q.counts && (
              <Suspense fallback={<Loading />}>
                <AnswerBars counts={q.counts} />
              </Suspense>
            )}
            {q.by_region && Object.keys(q.by_region).length > 0 && <Distribution title={translate("crm.questionnaires.by_region")} rows={q.by_region} />}
            {q.by_population_band && Object.keys(q.by_population_band).length > 0 && (
              <Distribution title={translate("crm.questionnaires.by_band")} rows={q.by_population_band} />
            )}
            {q.texts && (
              <Box component="ul" sx={{ maxHeight: 240, overflow: "auto" }}>
                {q.texts.map((t, i) => <li key={i}>{t}</li>)}
              </Box>
            )}
          </Box>
        ))}
      </CardContent>
    </Card>
  );
}

type ScoreRow = {
  response_id: string;
  organisation: string | null;
  status: string;
  average: number | null;
  decided_level: number | null;
  decided_green: boolean | null;
  scores: { juror: string; total: number; comment: string | null }[];
};

function ScoresPanel() {
  const record = useRecordContext();
  const translate = useTranslate();
  const notify = useNotify();
  const [board, setBoard] = useState<{ items: ScoreRow[] } | null>(null);
  const load = () => record && api<{ items: ScoreRow[] }>(`/api/v1/questionnaires/${record.id}/scores`).then(setBoard).catch(() => undefined);
  useEffect(() => {
    if (record?.kind === "label_application") load();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [record?.id]);
  if (record?.kind !== "label_application" || !board) return null;
  const decide = async (row: ScoreRow, level: number, green: boolean) => {
    try {
      await api(`/api/v1/questionnaires/${record.id}/responses/${row.response_id}/decision`, {
        method: "POST",
        body: JSON.stringify({ level, green }),
      });
      notify("crm.questionnaires.decided");
      load();
    } catch (error) {
      notify((error as Error).message, { type: "error" });
    }
  };
  return (
    <Card variant="outlined" sx={{ width: "100%", mt: 2 }}>
      <CardContent>
        <Typography variant="h6">{translate("crm.questionnaires.jury")}</Typography>
        <Table size="small">
          <TableHead>
            <TableRow>
              <TableCell>{translate("crm.questionnaires.city")}</TableCell>
              <TableCell>{translate("crm.questionnaires.scores")}</TableCell>
              <TableCell align="right">{translate("crm.questionnaires.average")}</TableCell>
              <TableCell>{translate("crm.questionnaires.decision")}</TableCell>
            </TableRow>
          </TableHead>
          <TableBody>
            {board.items.map((row) => (
              <TableRow key={row.response_id}>
                <TableCell>{row.organisation}</TableCell>
                <TableCell>{row.scores.map((s) => `${s.juror} : ${s.total}${s.comment ? ` (${s.comment})` : ""}`).join(" · ")}</TableCell>
                <TableCell align="right">{row.average ?? "—"}</TableCell>
                <TableCell>
                  <Stack direction="row" spacing={0.5}>
                    {[1, 2, 3, 4, 5].map((level) => (
                      <Button key={level} size="small" variant={row.decided_level === level ? "contained" : "outlined"} onClick={() => decide(row, level, !!row.decided_green)} disabled={row.status === "draft"}>
                        {"@".repeat(level)}
                      </Button>
                    ))}
                    <Button size="small" color="success" variant={row.decided_green ? "contained" : "outlined"} onClick={() => decide(row, row.decided_level ?? 1, !row.decided_green)} disabled={row.status === "draft"}>
                      {translate("crm.questionnaires.green")}
                    </Button>
                  </Stack>
                </TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      </CardContent>
    </Card>
  );
}
