// A visual and/or/not builder over the API's segment definitions, with the live count and a
// sample of the people it selects, from the API itself (POST /segments/preview) as staff type.
import { useEffect, useState } from "react";
import {
  Create,
  Datagrid,
  Edit,
  List,
  SimpleForm,
  TextField,
  TextInput,
  required,
  useInput,
  useTranslate,
  useGetList,
} from "react-admin";
import {
  Box,
  Button,
  Card,
  CardContent,
  FormControlLabel,
  IconButton,
  List as MuiList,
  ListItem,
  ListItemText,
  MenuItem,
  Paper,
  Stack,
  Switch,
  TextField as MuiTextField,
  ToggleButton,
  ToggleButtonGroup,
  Typography,
} from "@mui/material";
import DeleteIcon from "@mui/icons-material/Delete";
import { api } from "../api";
import { kindChoices, membershipChoices, useGeo } from "../choices";

type Rule = { field: string; op: string; value: unknown };
type Group = { all: Node[] } | { any: Node[] };
type Node = Rule | Group | { not: Node };

const FIELDS = [
  "organisation_kind",
  "region_code",
  "departement_code",
  "population",
  "membership_status",
  "label",
  "position_title",
  "elected",
  "board_member",
  "list",
] as const;

const DEFAULT_RULE: Record<string, Rule> = {
  organisation_kind: { field: "organisation_kind", op: "in", value: ["commune"] },
  region_code: { field: "region_code", op: "in", value: [] },
  departement_code: { field: "departement_code", op: "in", value: [] },
  population: { field: "population", op: "between", value: { min: 10000, max: 100000 } },
  membership_status: { field: "membership_status", op: "in", value: ["active"] },
  label: { field: "label", op: "has", value: { year: new Date().getFullYear() - 1, min_level: 1 } },
  position_title: { field: "position_title", op: "contains", value: "maire" },
  elected: { field: "elected", op: "eq", value: true },
  board_member: { field: "board_member", op: "eq", value: true },
  list: { field: "list", op: "in", value: [] },
};

const isRule = (n: Node): n is Rule => "field" in n;
const isNot = (n: Node): n is { not: Node } => "not" in n;
const groupItems = (g: Group): Node[] => ("all" in g ? g.all : g.any);

function MultiSelect({
  label,
  value,
  options,
  onChange,
}: {
  label: string;
  value: string[];
  options: { id: string; name: string }[];
  onChange: (v: string[]) => void;
}) {
  const translate = useTranslate();
  return (
    <MuiTextField
      select
      size="small"
      label={label}
      value={value}
      onChange={(e) => onChange(e.target.value as unknown as string[])}
      slotProps={{ select: { multiple: true } }}
      sx={{ minWidth: 240 }}
    >
      {options.map((o) => (
        <MenuItem key={o.id} value={o.id}>
          {translate(o.name, { _: o.name })}
        </MenuItem>
      ))}
    </MuiTextField>
  );
}

function RuleEditor({ rule, onChange }: { rule: Rule; onChange: (r: Rule) => void }) {
  const translate = useTranslate();
  const regions = useGeo("regions");
  const departements = useGeo("departements");
  const { data: lists } = useGetList("lists", { pagination: { page: 1, perPage: 100 }, sort: { field: "name", order: "ASC" } });
  const set = (value: unknown) => onChange({ ...rule, value });
  const valueLabel = translate("crm.segments.value");
  const v = rule.value as Record<string, unknown>;
  switch (rule.field) {
    case "organisation_kind":
      return <MultiSelect label={valueLabel} value={rule.value as string[]} options={kindChoices} onChange={set} />;
    case "membership_status":
      return <MultiSelect label={valueLabel} value={rule.value as string[]} options={membershipChoices} onChange={set} />;
    case "region_code":
      return <MultiSelect label={valueLabel} value={rule.value as string[]} options={regions} onChange={set} />;
    case "departement_code":
      return <MultiSelect label={valueLabel} value={rule.value as string[]} options={departements} onChange={set} />;
    case "list":
      return (
        <MultiSelect
          label={valueLabel}
          value={rule.value as string[]}
          options={(lists ?? []).map((l) => ({ id: String(l.id), name: l.name }))}
          onChange={set}
        />
      );
    case "population":
      return (
        <Stack direction="row" spacing={1}>
          {(["min", "max"] as const).map((bound) => (
            <MuiTextField
              key={bound}
              size="small"
              type="number"
              label={translate(`crm.segments.${bound}`)}
              value={v[bound] ?? ""}
              onChange={(e) => set({ ...v, [bound]: e.target.value === "" ? null : Number(e.target.value) })}
              sx={{ width: 140 }}
            />
          ))}
        </Stack>
      );
    case "label":
      return (
        <Stack direction="row" spacing={1} alignItems="center">
          <MuiTextField
            size="small"
            type="number"
            label={translate("resources.labels.fields.year")}
            value={v.year ?? ""}
            onChange={(e) => set({ ...v, year: e.target.value === "" ? null : Number(e.target.value) })}
            sx={{ width: 110 }}
          />
          <MuiTextField
            size="small"
            type="number"
            label={translate("resources.labels.fields.level")}
            value={v.min_level ?? ""}
            slotProps={{ htmlInput: { min: 1, max: 5 } }}
            onChange={(e) => set({ ...v, min_level: e.target.value === "" ? null : Number(e.target.value) })}
            sx={{ width: 110 }}
          />
          <FormControlLabel
            control={<Switch checked={Boolean(v.green)} onChange={(e) => set({ ...v, green: e.target.checked || null })} />}
            label={translate("resources.labels.fields.green")}
          />
        </Stack>
      );
    case "position_title":
      return (
        <MuiTextField size="small" label={valueLabel} value={rule.value as string} onChange={(e) => set(e.target.value)} />
      );
    default:
      return (
        <FormControlLabel
          control={<Switch checked={Boolean(rule.value)} onChange={(e) => set(e.target.checked)} />}
          label={translate(rule.value ? "crm.segments.yes" : "crm.segments.no")}
        />
      );
  }
}

function NodeEditor({ node, onChange, onRemove, depth }: { node: Node; onChange: (n: Node) => void; onRemove?: () => void; depth: number }) {
  const translate = useTranslate();
  const negated = isNot(node);
  const inner = negated ? node.not : node;
  const wrap = (n: Node): Node => (negated ? { not: n } : n);
  const header = (
    <Stack direction="row" spacing={1} alignItems="center">
      <FormControlLabel
        control={<Switch size="small" checked={negated} onChange={(e) => onChange(e.target.checked ? { not: inner } : inner)} />}
        label={translate("crm.segments.not")}
      />
      {onRemove && (
        <IconButton aria-label={translate("ra.action.remove")} onClick={onRemove} size="small">
          <DeleteIcon fontSize="small" />
        </IconButton>
      )}
    </Stack>
  );
  if (isRule(inner)) {
    return (
      <Paper variant="outlined" sx={{ p: 1.5 }}>
        <Stack direction="row" spacing={1} alignItems="center" flexWrap="wrap" useFlexGap>
          <MuiTextField
            select
            size="small"
            label={translate("crm.segments.field")}
            value={inner.field}
            onChange={(e) => onChange(wrap(DEFAULT_RULE[e.target.value]))}
            sx={{ minWidth: 220 }}
          >
            {FIELDS.map((f) => (
              <MenuItem key={f} value={f}>
                {translate(`crm.segments.fields.${f}`)}
              </MenuItem>
            ))}
          </MuiTextField>
          <RuleEditor rule={inner} onChange={(r) => onChange(wrap(r))} />
          {header}
        </Stack>
      </Paper>
    );
  }
  if (isNot(inner)) return <NodeEditor node={inner.not} onChange={(n) => onChange(wrap({ not: n }))} depth={depth} />;
  const combinator = "all" in inner ? "all" : "any";
  const items = groupItems(inner);
  const setItems = (next: Node[]) => onChange(wrap({ [combinator]: next } as Group));
  return (
    <Paper variant="outlined" sx={{ p: 1.5, bgcolor: depth % 2 ? "grey.50" : "background.paper" }}>
      <Stack direction="row" spacing={1} alignItems="center" sx={{ mb: 1 }} flexWrap="wrap">
        <ToggleButtonGroup
          size="small"
          exclusive
          value={combinator}
          onChange={(_, c) => c && onChange(wrap({ [c]: items } as Group))}
          aria-label={translate("crm.segments.combinator")}
        >
          <ToggleButton value="all">{translate("crm.segments.all")}</ToggleButton>
          <ToggleButton value="any">{translate("crm.segments.any")}</ToggleButton>
        </ToggleButtonGroup>
        {depth > 0 && header}
      </Stack>
      <Stack spacing={1}>
        {items.map((item, i) => (
          <NodeEditor
            key={i}
            node={item}
            depth={depth + 1}
            onChange={(n) => setItems(items.map((old, j) => (j === i ? n : old)))}
            onRemove={() => setItems(items.filter((_, j) => j !== i))}
          />
        ))}
      </Stack>
      <Stack direction="row" spacing={1} sx={{ mt: 1 }}>
        <Button size="small" onClick={() => setItems([...items, DEFAULT_RULE.membership_status])}>
          {translate("crm.segments.add_rule")}
        </Button>
        <Button size="small" onClick={() => setItems([...items, { any: [DEFAULT_RULE.organisation_kind] }])}>
          {translate("crm.segments.add_group")}
        </Button>
      </Stack>
    </Paper>
  );
}

interface Preview {
  count: number;
  sample: { id: string; name: string; email: string | null; organisation: string | null }[];
}

function LiveCount({ definition }: { definition: Node }) {
  const translate = useTranslate();
  const [preview, setPreview] = useState<Preview | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const text = JSON.stringify(definition);
  useEffect(() => {
    const timer = setTimeout(() => {
      api<Preview>("/api/v1/segments/preview", { method: "POST", body: JSON.stringify({ definition }) }).then(
        (p) => {
          setPreview(p);
          setProblem(null);
        },
        (error: Error) => setProblem(error.message),
      );
    }, 400);
    return () => clearTimeout(timer);
  }, [text]); // eslint-disable-line react-hooks/exhaustive-deps
  return (
    <Card variant="outlined" sx={{ flex: "0 1 340px", minWidth: 280 }} aria-live="polite">
      <CardContent>
        {problem ? (
          <Typography color="error" role="alert">
            {problem}
          </Typography>
        ) : (
          <Typography variant="h5" component="p" data-testid="segment-count">
            {preview ? translate("crm.segments.count", { smart_count: preview.count }) : "…"}
          </Typography>
        )}
        <MuiList dense>
          {preview?.sample.map((p) => (
            <ListItem key={p.id}>
              <ListItemText primary={p.name} secondary={p.organisation ?? p.email ?? ""} />
            </ListItem>
          ))}
        </MuiList>
      </CardContent>
    </Card>
  );
}

function DefinitionInput() {
  const { field } = useInput({ source: "definition", defaultValue: { all: [DEFAULT_RULE.membership_status] } });
  const definition = (field.value ?? { all: [] }) as Node;
  return (
    <Box sx={{ display: "flex", gap: 2, flexWrap: "wrap", alignItems: "flex-start", width: "100%" }}>
      <Box sx={{ flex: "1 1 560px" }}>
        <NodeEditor node={definition} onChange={field.onChange} depth={0} />
      </Box>
      <LiveCount definition={definition} />
    </Box>
  );
}

export function SegmentList() {
  return (
    <List sort={{ field: "name", order: "ASC" }}>
      <Datagrid rowClick="edit" bulkActionButtons={false}>
        <TextField source="name" />
        <TextField source="description" sortable={false} />
      </Datagrid>
    </List>
  );
}

function SegmentForm() {
  return (
    <SimpleForm>
      <TextInput source="name" validate={required()} fullWidth />
      <TextInput source="description" fullWidth />
      <DefinitionInput />
    </SimpleForm>
  );
}

export const SegmentCreate = () => (
  <Create redirect="edit">
    <SegmentForm />
  </Create>
);
export const SegmentEdit = () => (
  <Edit mutationMode="pessimistic">
    <SegmentForm />
  </Edit>
);
