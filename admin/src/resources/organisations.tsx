import { useEffect, useState } from "react";
import {
  BooleanField,
  BooleanInput,
  ChipField,
  Datagrid,
  DateField,
  ExportButton,
  FilterButton,
  FunctionField,
  List,
  NullableBooleanInput,
  NumberField,
  NumberInput,
  ReferenceManyField,
  SearchInput,
  SelectField,
  SelectInput,
  Show,
  SimpleForm,
  Tab,
  TabbedShowLayout,
  TextField,
  TextInput,
  TopToolbar,
  CreateButton,
  useTranslate,
  useRecordContext,
  Pagination,
} from "react-admin";
import { useWatch } from "react-hook-form";
import { Alert, Card, CardContent, Typography } from "@mui/material";
import { api } from "../api";
import { deliveryStatusChoices, kindChoices, membershipChoices, positionKindChoices, statusChoices, useGeo } from "../choices";
import { Timeline } from "./timeline";
import { CreateKeepingDraft, EditKeepingDraft, KeepDraft } from "../KeepDraft";

const csvExport = () => {
  window.location.assign("/api/v1/organisations/export.csv");
};

function ListActions() {
  return (
    <TopToolbar>
      <FilterButton />
      <CreateButton />
      <ExportButton exporter={csvExport} />
    </TopToolbar>
  );
}

function useOrganisationFilters() {
  const regions = useGeo("regions");
  const departements = useGeo("departements");
  return [
    <SearchInput key="q" source="q" alwaysOn />,
    <SelectInput key="kind" source="kind" choices={kindChoices} />,
    <SelectInput key="region" source="region_code" choices={regions} alwaysOn />,
    <SelectInput key="dep" source="departement_code" choices={departements} />,
    <SelectInput key="status" source="membership_status" choices={membershipChoices} alwaysOn />,
    <NullableBooleanInput key="partner" source="is_partner" />,
    <NumberInput key="label" source="label_year" min={2000} max={2100} />,
  ];
}

const LabelCell = () => {
  const record = useRecordContext();
  const label = record?.latest_label as { year: number; level: number; green: boolean } | null;
  if (!label) return null;
  return (
    <span>
      {"@".repeat(label.level)} {label.green ? "+ @ vert" : ""} ({label.year})
    </span>
  );
};

export function OrganisationList() {
  const filters = useOrganisationFilters();
  return (
    <List filters={filters} actions={<ListActions />} sort={{ field: "name", order: "ASC" }} perPage={25}>
      <Datagrid rowClick="show" bulkActionButtons={false}>
        <TextField source="name" />
        <SelectField source="kind" choices={kindChoices} />
        <TextField source="departement_name" sortable={false} />
        <TextField source="region_name" sortable={false} />
        <NumberField source="population" locales="fr-FR" />
        <SelectField source="membership_status" choices={membershipChoices} sortable={false} />
        <FunctionField source="latest_label" sortable={false} render={() => <LabelCell />} />
      </Datagrid>
    </List>
  );
}

interface Lookup {
  name: string;
  population: number | null;
  departement_name: string | null;
  region_name: string | null;
  epci_name: string | null;
}

// What the member will be, from the official geography, before anything is saved.
function LookupPreview() {
  const translate = useTranslate();
  const [insee, siren] = useWatch({ name: ["insee_code", "siren"] }) as [string | undefined, string | undefined];
  const [found, setFound] = useState<Lookup | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  useEffect(() => {
    const code = (insee ?? "").trim();
    const sirenCode = (siren ?? "").trim();
    if (code.length < 4 && sirenCode.length < 9) {
      setFound(null);
      setProblem(null);
      return;
    }
    const query = code ? `insee_code=${encodeURIComponent(code)}` : `siren=${encodeURIComponent(sirenCode)}`;
    let live = true;
    const timer = setTimeout(() => {
      api<Lookup>(`/api/v1/geo/lookup?${query}`)
        .then((place) => {
          if (!live) return;
          setFound(place);
          setProblem(null);
        })
        .catch((error: Error) => {
          if (!live) return;
          setFound(null);
          setProblem(error.message);
        });
    }, 250);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [insee, siren]);
  if (problem) return <Alert severity="warning" role="status">{problem}</Alert>;
  if (!found) return <Typography variant="body2" color="text.secondary">{translate("crm.lookup.none")}</Typography>;
  return (
    <Card variant="outlined" sx={{ mb: 2, minWidth: 320 }} aria-live="polite" data-testid="lookup-preview">
      <CardContent>
        <Typography variant="overline">{translate("crm.lookup.title")}</Typography>
        <Typography variant="h6">{found.name}</Typography>
        <Typography variant="body2">
          {found.population !== null && `${found.population.toLocaleString("fr-FR")} ${translate("crm.lookup.population")} · `}
          {[found.departement_name, found.region_name].filter(Boolean).join(", ")}
        </Typography>
        {found.epci_name && <Typography variant="body2">{found.epci_name}</Typography>}
      </CardContent>
    </Card>
  );
}

export function OrganisationCreate() {
  return (
    <CreateKeepingDraft>
      <SimpleForm defaultValues={{ kind: "commune" }}>
        <KeepDraft />
        <SelectInput source="kind" choices={kindChoices} />
        <TextInput source="insee_code" helperText="ex. 2A004, 97411, 01053" />
        <TextInput source="siren" helperText="Intercommunalité : 9 chiffres" />
        <LookupPreview />
        <TextInput source="name" helperText="Laisser vide pour reprendre le nom officiel" />
        <BooleanInput source="is_partner" />
        <TextInput source="email" type="email" />
        <TextInput source="phone" />
        <TextInput source="website" />
        <TextInput source="address" multiline />
        <TextInput source="notes" multiline />
      </SimpleForm>
    </CreateKeepingDraft>
  );
}

export function OrganisationEdit() {
  return (
    <EditKeepingDraft>
      <OrganisationEditForm />
    </EditKeepingDraft>
  );
}

function OrganisationEditForm() {
  return (
    <SimpleForm>
      <KeepDraft />
      <TextInput source="name" />
      <NumberInput source="population" min={0} />
      <BooleanInput source="is_partner" />
      <TextInput source="email" type="email" />
      <TextInput source="phone" />
      <TextInput source="website" />
      <TextInput source="address" multiline />
      <TextInput source="notes" multiline />
    </SimpleForm>
  );
}

const parisMoment = { timeZone: "Europe/Paris", dateStyle: "medium", timeStyle: "short" } as const;
const invitationChoices = statusChoices("invitation", ["invited", "yes", "no", "waiting"]);

export function OrganisationShow() {
  return (
    <Show>
      <TabbedShowLayout>
        <Tab label="resources.organisations.tabs.summary">
          <TextField source="name" />
          <SelectField source="kind" choices={kindChoices} />
          <TextField source="insee_code" emptyText="—" />
          <TextField source="siren" emptyText="—" />
          <NumberField source="population" locales="fr-FR" emptyText="—" />
          <TextField source="departement_name" emptyText="—" />
          <TextField source="region_name" emptyText="—" />
          <TextField source="epci_name" emptyText="—" />
          <SelectField source="membership_status" choices={membershipChoices} emptyText="—" />
          <DateField source="member_since" locales="fr-FR" emptyText="—" />
          <BooleanField source="is_partner" />
          <TextField source="email" emptyText="—" />
          <TextField source="phone" emptyText="—" />
          <TextField source="website" emptyText="—" />
          <TextField source="notes" emptyText="—" />
          <FunctionField
            source="tags"
            render={(r: { tags?: string[] }) => (r.tags ?? []).map((t) => <ChipField key={t} record={{ t }} source="t" />)}
          />
        </Tab>
        <Tab label="resources.organisations.tabs.timeline" path="timeline">
          <Timeline />
        </Tab>
        <Tab label="resources.organisations.tabs.positions" path="positions">
          <ReferenceManyField reference="positions" target="organisation_id" filter={{ current: true }} pagination={<Pagination />}>
            <Datagrid rowClick={(_id, _res, record) => `/people/${record.person_id}/show`} bulkActionButtons={false}>
              <TextField source="person_name" />
              <TextField source="title" />
              <SelectField source="kind" choices={positionKindChoices} />
              <DateField source="started_on" locales="fr-FR" />
            </Datagrid>
          </ReferenceManyField>
        </Tab>
        <Tab label="resources.organisations.tabs.memberships" path="memberships">
          <ReferenceManyField reference="memberships" target="organisation_id">
            <Datagrid bulkActionButtons={false}>
              <SelectField source="status" choices={membershipChoices} />
              <DateField source="member_since" locales="fr-FR" />
              <DateField source="ended_on" locales="fr-FR" />
              <TextField source="notes" />
            </Datagrid>
          </ReferenceManyField>
        </Tab>
        <Tab label="resources.organisations.tabs.dues" path="dues">
          <ReferenceManyField reference="dues" target="organisation_id" sort={{ field: "year", order: "DESC" }}>
            <Datagrid bulkActionButtons={false}>
              <TextField source="year" />
              <NumberField source="amount" locales="fr-FR" options={{ style: "currency", currency: "EUR" }} />
              <TextField source="status" />
              <DateField source="paid_on" locales="fr-FR" />
            </Datagrid>
          </ReferenceManyField>
        </Tab>
        <Tab label="resources.organisations.tabs.labels" path="labels">
          <ReferenceManyField reference="labels" target="organisation_id" sort={{ field: "year", order: "DESC" }}>
            <Datagrid bulkActionButtons={false}>
              <TextField source="year" />
              <FunctionField source="level" render={(r: { level: number }) => "@".repeat(r.level)} />
              <BooleanField source="green" />
            </Datagrid>
          </ReferenceManyField>
        </Tab>
        <Tab label="resources.organisations.tabs.events" path="events">
          <ReferenceManyField reference="member-events" target="organisation_id" pagination={<Pagination />}>
            <Datagrid rowClick={(_id, _res, record) => `/events/${record.event_id}/show`} bulkActionButtons={false}>
              <DateField source="starts_at" showTime locales="fr-FR" sortable={false} options={parisMoment} />
              <TextField source="title" sortable={false} />
              <TextField source="person_name" sortable={false} />
              <SelectField source="status" choices={invitationChoices} sortable={false} />
              <DateField source="checked_in_at" showTime locales="fr-FR" sortable={false} options={parisMoment} emptyText="—" />
            </Datagrid>
          </ReferenceManyField>
        </Tab>
        <Tab label="resources.organisations.tabs.campaigns" path="campaigns">
          <ReferenceManyField reference="member-campaigns" target="organisation_id" pagination={<Pagination />}>
            <Datagrid rowClick={(_id, _res, record) => `/campaigns/${record.campaign_id}/show`} bulkActionButtons={false}>
              <DateField source="sent_at" showTime locales="fr-FR" sortable={false} options={parisMoment} emptyText="—" />
              <TextField source="campaign_name" sortable={false} />
              <TextField source="subject" sortable={false} />
              <TextField source="person_name" sortable={false} />
              <TextField source="email" sortable={false} />
              <SelectField source="status" choices={deliveryStatusChoices} sortable={false} />
            </Datagrid>
          </ReferenceManyField>
        </Tab>
      </TabbedShowLayout>
    </Show>
  );
}
