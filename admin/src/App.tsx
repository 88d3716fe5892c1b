import { Admin, CustomRoutes, Resource } from "react-admin";
import { Route } from "react-router-dom";
import { LabelResults } from "./resources/labelResults";
import { SettingsPage } from "./resources/settings";
import BusinessIcon from "@mui/icons-material/Business";
import PeopleIcon from "@mui/icons-material/People";
import BadgeIcon from "@mui/icons-material/Badge";
import HistoryIcon from "@mui/icons-material/History";
import EventIcon from "@mui/icons-material/Event";
import MailIcon from "@mui/icons-material/Mail";
import ListIcon from "@mui/icons-material/List";
import HowToRegIcon from "@mui/icons-material/HowToReg";
import BlockIcon from "@mui/icons-material/Block";
import MenuBookIcon from "@mui/icons-material/MenuBook";
import HandshakeIcon from "@mui/icons-material/Handshake";
import GroupsIcon from "@mui/icons-material/Groups";
import AlternateEmailIcon from "@mui/icons-material/AlternateEmail";
import FilterAltIcon from "@mui/icons-material/FilterAlt";
import UploadFileIcon from "@mui/icons-material/UploadFile";
import { ImportList } from "./resources/imports";
import { authProvider } from "./authProvider";
import { SegmentCreate, SegmentEdit, SegmentList } from "./resources/segments";
import { dataProvider } from "./dataProvider";
import { i18nProvider } from "./i18n";
import { Dashboard } from "./Dashboard";
import { Layout } from "./Layout";
import { theme } from "./theme";
import { OrganisationCreate, OrganisationEdit, OrganisationList, OrganisationShow } from "./resources/organisations";
import { PersonCreate, PersonEdit, PersonList, PersonShow } from "./resources/people";
import { StaffEdit, StaffInvite, StaffList } from "./resources/staff";
import { AuditList } from "./resources/audit";
import { EventCreate, EventEdit, EventList, EventShow } from "./resources/events";
import { CampaignCreate, CampaignEdit, CampaignList, CampaignShow } from "./resources/campaigns";
import {
  ConventionCreate,
  ConventionEdit,
  ConventionList,
  LabelCreate,
  LabelEdit,
  LabelList,
  MailingListCreate,
  MailingListEdit,
  MailingListList,
  MandateCreate,
  MandateEdit,
  MandateList,
  PublicationCreate,
  PublicationEdit,
  PublicationList,
  SubscriptionCreate,
  SubscriptionList,
  SubscriptionShow,
  SuppressionCreate,
  SuppressionList,
} from "./resources/mailing";

export function App() {
  return (
    <Admin
      title="crm.title"
      dataProvider={dataProvider}
      authProvider={authProvider}
      i18nProvider={i18nProvider}
      dashboard={Dashboard}
      layout={Layout}
      theme={theme}
      requireAuth
      disableTelemetry
    >
      <Resource
        name="organisations"
        list={OrganisationList}
        show={OrganisationShow}
        create={OrganisationCreate}
        edit={OrganisationEdit}
        icon={BusinessIcon}
        recordRepresentation="name"
      />
      <Resource
        name="people"
        list={PersonList}
        show={PersonShow}
        create={PersonCreate}
        edit={PersonEdit}
        icon={PeopleIcon}
        recordRepresentation={(r) => `${r.first_name} ${r.last_name}`}
      />
      <Resource name="mandates" list={MandateList} create={MandateCreate} edit={MandateEdit} icon={GroupsIcon} />
      <Resource name="conventions" list={ConventionList} create={ConventionCreate} edit={ConventionEdit} icon={HandshakeIcon} />
      <Resource name="labels" list={LabelList} create={LabelCreate} edit={LabelEdit} icon={AlternateEmailIcon} />
      <Resource name="events" list={EventList} show={EventShow} create={EventCreate} edit={EventEdit} icon={EventIcon} recordRepresentation="title" />
      <Resource name="campaigns" list={CampaignList} show={CampaignShow} create={CampaignCreate} edit={CampaignEdit} icon={MailIcon} recordRepresentation="name" />
      <Resource name="lists" list={MailingListList} create={MailingListCreate} edit={MailingListEdit} icon={ListIcon} recordRepresentation="name" />
      <Resource name="subscriptions" list={SubscriptionList} show={SubscriptionShow} create={SubscriptionCreate} icon={HowToRegIcon} />
      <Resource name="publications" list={PublicationList} create={PublicationCreate} edit={PublicationEdit} icon={MenuBookIcon} recordRepresentation="title" />
      <Resource name="suppressions" list={SuppressionList} create={SuppressionCreate} icon={BlockIcon} />
      <Resource name="imports" list={ImportList} icon={UploadFileIcon} />
      <Resource name="segments" list={SegmentList} create={SegmentCreate} edit={SegmentEdit} icon={FilterAltIcon} recordRepresentation="name" />
      <Resource name="deliveries" />
      <Resource name="positions" />
      <Resource name="memberships" />
      <Resource name="dues" />
      <Resource name="staff" list={StaffList} create={StaffInvite} edit={StaffEdit} icon={BadgeIcon} recordRepresentation="name" />
      <Resource name="audit-log" list={AuditList} icon={HistoryIcon} />
      <CustomRoutes>
        <Route path="/label-results" element={<LabelResults />} />
        <Route path="/settings" element={<SettingsPage />} />
      </CustomRoutes>
    </Admin>
  );
}
