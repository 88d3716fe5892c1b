import { Admin, CustomRoutes, Resource } from "react-admin";
import BusinessIcon from "@mui/icons-material/Business";
import PeopleIcon from "@mui/icons-material/People";
import BadgeIcon from "@mui/icons-material/Badge";
import HistoryIcon from "@mui/icons-material/History";
import { authProvider } from "./authProvider";
import { dataProvider } from "./dataProvider";
import { i18nProvider } from "./i18n";
import { Dashboard } from "./Dashboard";
import { Layout } from "./Layout";
import { OrganisationCreate, OrganisationEdit, OrganisationList, OrganisationShow } from "./resources/organisations";
import { PersonCreate, PersonEdit, PersonList, PersonShow } from "./resources/people";
import { StaffEdit, StaffInvite, StaffList } from "./resources/staff";
import { AuditList } from "./resources/audit";

export function App() {
  return (
    <Admin
      title="crm.title"
      dataProvider={dataProvider}
      authProvider={authProvider}
      i18nProvider={i18nProvider}
      dashboard={Dashboard}
      layout={Layout}
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
      <Resource name="positions" />
      <Resource name="memberships" />
      <Resource name="dues" />
      <Resource name="labels" />
      <Resource name="staff" list={StaffList} create={StaffInvite} edit={StaffEdit} icon={BadgeIcon} recordRepresentation="name" />
      <Resource name="audit-log" list={AuditList} icon={HistoryIcon} />
      <CustomRoutes>{[]}</CustomRoutes>
    </Admin>
  );
}
