import { Admin, CustomRoutes, Resource } from "react-admin";
import { Route } from "react-router-dom";
import BusinessIcon from "@mui/icons-material/Business";
import PeopleIcon from "@mui/icons-material/People";
import BadgeIcon from "@mui/icons-material/Badge";
import HistoryIcon from "@mui/icons-material/History";
import KeyIcon from "@mui/icons-material/Key";
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
import WebhookIcon from "@mui/icons-material/Webhook";
import QuizIcon from "@mui/icons-material/Quiz";
import TravelExploreIcon from "@mui/icons-material/TravelExplore";
import RateReviewIcon from "@mui/icons-material/RateReview";
import ReportIcon from "@mui/icons-material/Report";
import { authProvider } from "./authProvider";
import { dataProvider } from "./dataProvider";
import { i18nProvider } from "./i18n";
import { Dashboard } from "./Dashboard";
import { Layout } from "./Layout";
import { lazyScreen } from "./lazy";
import { theme } from "./theme";
// The members' screens are the ones staff open first: they come with the app; every other screen
// loads when first opened.
import { OrganisationCreate, OrganisationEdit, OrganisationList, OrganisationShow } from "./resources/organisations";

const people = () => import("./resources/people");
const staff = () => import("./resources/staff");
const audit = () => import("./resources/audit");
const apiClients = () => import("./resources/apiClients");
const events = () => import("./resources/events");
const campaigns = () => import("./resources/campaigns");
const records = () => import("./resources/mailing");
const board = () => import("./resources/board");
const imports = () => import("./resources/imports");
const segments = () => import("./resources/segments");
const labelResults = () => import("./resources/labelResults");
const settings = () => import("./resources/settings");
const webhooks = () => import("./resources/webhooks");
const questionnaires = () => import("./resources/questionnaires");
const atlaas = () => import("./resources/atlaas");
const deliverability = () => import("./resources/deliverability");

const PersonList = lazyScreen(people, "PersonList");
const PersonShow = lazyScreen(people, "PersonShow");
const PersonCreate = lazyScreen(people, "PersonCreate");
const PersonEdit = lazyScreen(people, "PersonEdit");
const StaffList = lazyScreen(staff, "StaffList");
const StaffInvite = lazyScreen(staff, "StaffInvite");
const StaffEdit = lazyScreen(staff, "StaffEdit");
const AuditList = lazyScreen(audit, "AuditList");
const ApiClientList = lazyScreen(apiClients, "ApiClientList");
const ApiClientCreate = lazyScreen(apiClients, "ApiClientCreate");
const EventList = lazyScreen(events, "EventList");
const EventShow = lazyScreen(events, "EventShow");
const EventCreate = lazyScreen(events, "EventCreate");
const EventEdit = lazyScreen(events, "EventEdit");
const CampaignList = lazyScreen(campaigns, "CampaignList");
const CampaignShow = lazyScreen(campaigns, "CampaignShow");
const CampaignCreate = lazyScreen(campaigns, "CampaignCreate");
const CampaignEdit = lazyScreen(campaigns, "CampaignEdit");
const BoardPage = lazyScreen(board, "BoardPage");
const MandateCreate = lazyScreen(records, "MandateCreate");
const MandateEdit = lazyScreen(records, "MandateEdit");
const ConventionList = lazyScreen(records, "ConventionList");
const ConventionCreate = lazyScreen(records, "ConventionCreate");
const ConventionEdit = lazyScreen(records, "ConventionEdit");
const LabelList = lazyScreen(records, "LabelList");
const LabelCreate = lazyScreen(records, "LabelCreate");
const LabelEdit = lazyScreen(records, "LabelEdit");
const MailingListList = lazyScreen(records, "MailingListList");
const MailingListCreate = lazyScreen(records, "MailingListCreate");
const MailingListEdit = lazyScreen(records, "MailingListEdit");
const PublicationList = lazyScreen(records, "PublicationList");
const PublicationCreate = lazyScreen(records, "PublicationCreate");
const PublicationEdit = lazyScreen(records, "PublicationEdit");
const SubscriptionList = lazyScreen(records, "SubscriptionList");
const SubscriptionShow = lazyScreen(records, "SubscriptionShow");
const SubscriptionCreate = lazyScreen(records, "SubscriptionCreate");
const SuppressionList = lazyScreen(records, "SuppressionList");
const SuppressionCreate = lazyScreen(records, "SuppressionCreate");
const ImportList = lazyScreen(imports, "ImportList");
const SegmentList = lazyScreen(segments, "SegmentList");
const SegmentCreate = lazyScreen(segments, "SegmentCreate");
const SegmentEdit = lazyScreen(segments, "SegmentEdit");
const LabelResults = lazyScreen(labelResults, "LabelResults");
const SettingsPage = lazyScreen(settings, "SettingsPage");
const WebhookList = lazyScreen(webhooks, "WebhookList");
const WebhookShow = lazyScreen(webhooks, "WebhookShow");
const WebhookCreate = lazyScreen(webhooks, "WebhookCreate");
const QuestionnaireList = lazyScreen(questionnaires, "QuestionnaireList");
const QuestionnaireCreate = lazyScreen(questionnaires, "QuestionnaireCreate");
const QuestionnaireEdit = lazyScreen(questionnaires, "QuestionnaireEdit");
const ActionList = lazyScreen(atlaas, "ActionList");
const ActionCreate = lazyScreen(atlaas, "ActionCreate");
const ActionEdit = lazyScreen(atlaas, "ActionEdit");
const ProposalList = lazyScreen(atlaas, "ProposalList");
const BounceList = lazyScreen(deliverability, "BounceList");

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
      <Resource name="mandates" list={BoardPage} create={MandateCreate} edit={MandateEdit} icon={GroupsIcon} />
      <Resource name="conventions" list={ConventionList} create={ConventionCreate} edit={ConventionEdit} icon={HandshakeIcon} />
      <Resource name="labels" list={LabelList} create={LabelCreate} edit={LabelEdit} icon={AlternateEmailIcon} />
      <Resource name="events" list={EventList} show={EventShow} create={EventCreate} edit={EventEdit} icon={EventIcon} recordRepresentation="title" />
      <Resource name="campaigns" list={CampaignList} show={CampaignShow} create={CampaignCreate} edit={CampaignEdit} icon={MailIcon} recordRepresentation="name" />
      <Resource name="lists" list={MailingListList} create={MailingListCreate} edit={MailingListEdit} icon={ListIcon} recordRepresentation="name" />
      <Resource name="subscriptions" list={SubscriptionList} show={SubscriptionShow} create={SubscriptionCreate} icon={HowToRegIcon} />
      <Resource name="publications" list={PublicationList} create={PublicationCreate} edit={PublicationEdit} icon={MenuBookIcon} recordRepresentation="title" />
      <Resource name="suppressions" list={SuppressionList} create={SuppressionCreate} icon={BlockIcon} />
      <Resource name="bounces" list={BounceList} icon={ReportIcon} />
      <Resource name="imports" list={ImportList} icon={UploadFileIcon} />
      <Resource name="actions" list={ActionList} create={ActionCreate} edit={ActionEdit} icon={TravelExploreIcon} recordRepresentation="title" />
      <Resource name="atlaas-proposals" list={ProposalList} icon={RateReviewIcon} />
      <Resource name="atlaas-themes" />
      <Resource name="segments" list={SegmentList} create={SegmentCreate} edit={SegmentEdit} icon={FilterAltIcon} recordRepresentation="name" />
      <Resource name="webhooks" list={WebhookList} show={WebhookShow} create={WebhookCreate} icon={WebhookIcon} recordRepresentation="url" />
      <Resource name="webhook-deliveries" />
      <Resource name="questionnaires" list={QuestionnaireList} create={QuestionnaireCreate} edit={QuestionnaireEdit} icon={QuizIcon} recordRepresentation="title" />
      <Resource name="deliveries" />
      <Resource name="positions" />
      <Resource name="memberships" />
      <Resource name="dues" />
      <Resource name="staff" list={StaffList} create={StaffInvite} edit={StaffEdit} icon={BadgeIcon} recordRepresentation="name" />
      <Resource name="audit-log" list={AuditList} icon={HistoryIcon} />
      <Resource name="api-clients" list={ApiClientList} create={ApiClientCreate} icon={KeyIcon} recordRepresentation="name" />
      <CustomRoutes>
        <Route path="/label-results" element={<LabelResults />} />
        <Route path="/settings" element={<SettingsPage />} />
      </CustomRoutes>
    </Admin>
  );
}
