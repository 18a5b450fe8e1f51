#include "picklist.h"

#include <stdlib.h>
#include <string.h>

/* Value lists in the order HTCDS v2.0 documents them, so docs and tests can
 * print them as the standard does. */
static const char *const cas_status[] = {"Active", "FollowUp", "Closed", "ClosedReferred",
                                         "Withdrawn"};

static const char *const type_of_exploitation[] = {
    "ForcedLabour",   "SexualExploitation",
    "ChildLabour",    "ForcedMarriage",
    "Servitude",      "ForcedMilitaryByNonStateActors",
    "OrganRemoval",   "ForcedBegging",
    "ForcedAdoption", "Surrogacy",
    "Other",
};

static const char *const forced_labour_industry[] = {
    "A_AgricultureForestryAndFishing",
    "B_MiningAndQuarrying",
    "C_Manufacturing",
    "D_ElectricityGasSteamAndAirConditioningSupply",
    "E_WaterSupplySewerageWasteManagement",
    "F_Construction",
    "G_WholesaleAndRetailTradeRepairOfMotorVehicles",
    "H_TransportationAndStorage",
    "I_AccommodationAndFoodServiceActivities",
    "J_InformationAndCommunication",
    "K_FinancialAndInsuranceActivities",
    "L_RealEstateActivities",
    "M_ProfessionalScientificAndTechnicalActivities",
    "N_AdministrativeAndSupportServiceActivities",
    "O_PublicAdministrationAndDefence",
    "P_Education",
    "Q_HumanHealthAndSocialWorkActivities",
    "R_ArtsEntertainmentAndRecreation",
    "S_OtherServiceActivities",
    "T_ActivitiesOfHouseholdsAsEmployers",
    "U_ActivitiesOfExtraterritorialOrganizations",
};

static const char *const type_of_sex_exploitation[] = {
    "Prostitution", "Pornography", "RemoteInteractiveServices", "PrivateSexualServices"};

static const char *const method_of_recruitment[] = {
    "AtAPlaceOfBusiness",
    "AtAnEducationalInstitution",
    "AtWork",
    "ThroughOnlineSocialNetworks",
    "ThroughAnOnlineAdvertisement",
    "ThroughATelevisionAdvert",
    "ThroughANewspaperAdvert",
    "ThroughFamilyOrFamilyEvents",
    "ThroughFriendsOrSocialEvents",
    "Other",
};

static const char *const methods_of_control[] = {
    "PhysicalThreats",
    "ThreatsLawEnforcement",
    "ThreatensChildrenFamily",
    "DebtBondage",
    "FalsePromises",
    "PhysicalAbuse",
    "SexualAbuse",
    "TakesEarnings",
    "RestrictsFinancialAccess",
    "RestrictsMedicalCare",
    "WithholdsNecessities",
    "PsychologicalAbuse",
    "PsychoactiveSubstance",
    "ExcessiveWorkingHours",
    "WithholdsDocuments",
    "Other",
};

static const char *const hte_type[] = {"Recruitment", "Transit", "Exploitation"};

static const char *const gender[] = {
    "Feminine",      "Masculine",          "TransgenderFeminine", "TransgenderMasculine",
    "NonConforming", "NonSpecifiedUnknown"};

static const char *const trafficking_status[] = {
    "PossibleVictimOfTrafficking", "ActualVictimOfTrafficking", "NotAVictimOfTrafficking"};

static const char *const decision_making_org[] = {"Police", "NGO", "CourtOrProsecution",
                                                  "NonPoliceGovernmentalOrganization", "Other"};

/* "Unaquainted" is HTCDS's own spelling; correcting it would break exchange
 * with every other HTCDS system. */
static const char *const relationship_to_trafficker[] = {"Familial", "Acquainted", "Unaquainted"};

static const char *const vulnerabilities[] = {
    "Addiction",
    "SocialGroup",
    "Discrimination",
    "Poverty",
    "DisabilityAndPhysicalHealth",
    "MentalHealth",
    "Migration",
    "Homelessness",
    "AbuseSocialMedia",
    "AbusePhysical",
    "Education",
    "WorkEnvironment",
};

static const char *const role_in_process[] = {
    "TravellingPartner",
    "Transporter",
    "RecruiterOrIntermediary",
    "BrokerTravelAgent",
    "TransferredIndividual",
    "HarbouredIndividual",
    "SoldIndividual",
    "BoughtIndividual",
    "ReceivedIndividual",
    "ControlledIndividual",
    "Smuggler",
    "Abuser",
    "Kidnapper",
    "Exploiter",
    "Other",
};

static const char *const referral_reason[] = {"AdditionalServicesRequired",
                                              "MigrationOrChangeOfLocation", "Other"};

static const char *const role[] = {"Victim", "Suspect", "Witness", "Other"};

static const char *const sex[] = {"Female", "Male", "Intersex", "Unknown"};

/* The Europol grading scheme (Europol Regulation art. 29 and its handling
 * codes), which police and prosecutors already use when exchanging
 * intelligence: H0 crime-fighting use only, H1 not in court without the
 * provider's consent, H2 not passed on without it, H3 the restrictions
 * written in handling_conditions. */
static const char *const handling_code[] = {"H0", "H1", "H2", "H3"};

/* Europol source evaluation: A beyond doubt, B mostly reliable, C mostly
 * unreliable, X cannot be assessed. */
static const char *const source_reliability[] = {"A", "B", "C", "X"};

/* Europol information evaluation: 1 not in doubt, 2 known personally to the
 * source only, 3 corroborated by information already held, 4 neither. */
static const char *const information_accuracy[] = {"1", "2", "3", "4"};

static const char *const document_type[] = {
    "NationalId", "Passport",       "ForeignerId", "BirthCertificate",
    "TaxId",      "DrivingLicence", "Other"};

static const char *const consent_scope[] = {"ShareWithAgencies", "ReferToServices", "Statistics"};

struct list {
    const char *name;
    const char *const *values;
    size_t n;
};

#define LIST(nm, arr)                                                                              \
    {                                                                                              \
        nm, arr, sizeof(arr) / sizeof(arr[0])                                                      \
    }

static const struct list lists[PICKLIST_COUNT] = {
    [PICKLIST_CAS_STATUS] = LIST("cas_Status", cas_status),
    [PICKLIST_TYPE_OF_EXPLOITATION] = LIST("vic_TypeOfExploitation", type_of_exploitation),
    [PICKLIST_FORCED_LABOUR_INDUSTRY] = LIST("vic_ForcedLabourIndustry", forced_labour_industry),
    [PICKLIST_TYPE_OF_SEX_EXPLOITATION] =
        LIST("vic_TypeOfSexExploitation", type_of_sex_exploitation),
    [PICKLIST_METHOD_OF_RECRUITMENT] = LIST("vic_MethodOfRecruitment", method_of_recruitment),
    [PICKLIST_METHODS_OF_CONTROL] = LIST("vic_MethodsOfControl", methods_of_control),
    [PICKLIST_HTE_TYPE] = LIST("hte_Type", hte_type),
    [PICKLIST_GENDER] = LIST("prs_Gender", gender),
    [PICKLIST_TRAFFICKING_STATUS] = LIST("vic_TraffickingStatus", trafficking_status),
    [PICKLIST_TRAFFICKING_STATUS_DECISION_MAKING_ORG] =
        LIST("vic_TraffickingStatusDecisionMakingOrg", decision_making_org),
    [PICKLIST_RELATIONSHIP_TO_TRAFFICKER] =
        LIST("vic_RelationshipToTrafficker", relationship_to_trafficker),
    [PICKLIST_VULNERABILITIES] = LIST("vic_Vulnerabilities", vulnerabilities),
    [PICKLIST_ROLE_IN_PROCESS] = LIST("per_RoleInProcess", role_in_process),
    [PICKLIST_REASON_FOR_INCOMING_REFERRAL] =
        LIST("cas_ReasonForIncomingReferral", referral_reason),
    [PICKLIST_REASON_FOR_OUTGOING_REFERRAL] =
        LIST("cas_ReasonForOutgoingReferral", referral_reason),
    [PICKLIST_ROLE] = LIST("role", role),
    [PICKLIST_SEX] = LIST("sex", sex),
    [PICKLIST_HANDLING_CODE] = LIST("handling_code", handling_code),
    [PICKLIST_SOURCE_RELIABILITY] = LIST("source_reliability", source_reliability),
    [PICKLIST_INFORMATION_ACCURACY] = LIST("information_accuracy", information_accuracy),
    [PICKLIST_DOCUMENT_TYPE] = LIST("IdentityDocument.type", document_type),
    [PICKLIST_CONSENT_SCOPE] = LIST("Consent.scope", consent_scope),
};

/* ISO 3166-1 alpha-2, officially assigned codes only (no exceptionally or
 * transitionally reserved ones such as UK, EU or XK), sorted for bsearch. */
static const char countries[][3] = {
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ",
    "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS",
    "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN",
    "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM", "DO", "DZ", "EC", "EE",
    "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF",
    "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK", "HM",
    "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM",
    "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC",
    "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK",
    "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA",
    "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG",
    "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW",
    "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS",
    "ST", "SV", "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO",
    "TR", "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI",
    "VN", "VU", "WF", "WS", "YE", "YT", "ZA", "ZM", "ZW",
};

#define NCOUNTRIES (sizeof(countries) / sizeof(countries[0]))

static const struct list *list_get(enum picklist which)
{
    /* which may come from a cast; range-check rather than trust it */
    if ((unsigned)which >= PICKLIST_COUNT)
        return NULL;
    return &lists[which];
}

bool picklist_valid(enum picklist which, const char *value)
{
    const struct list *l = list_get(which);

    if (l == NULL || value == NULL)
        return false;
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->values[i], value) == 0)
            return true;
    return false;
}

const char *picklist_name(enum picklist which)
{
    const struct list *l = list_get(which);

    return l ? l->name : "?";
}

size_t picklist_size(enum picklist which)
{
    const struct list *l = list_get(which);

    return l ? l->n : 0;
}

const char *picklist_value(enum picklist which, size_t i)
{
    const struct list *l = list_get(which);

    if (l == NULL || i >= l->n)
        return NULL;
    return l->values[i];
}

static int country_cmp(const void *key, const void *elem)
{
    return strcmp(key, elem);
}

bool picklist_country_valid(const char *code)
{
    /* The length/case test first keeps bsearch from ever comparing a long
     * or lowercase string, and makes "co" false without a case fold. */
    if (code == NULL || code[0] < 'A' || code[0] > 'Z' || code[1] < 'A' || code[1] > 'Z' ||
        code[2] != '\0')
        return false;
    return bsearch(code, countries, NCOUNTRIES, sizeof(countries[0]), country_cmp) != NULL;
}

size_t picklist_country_count(void)
{
    return NCOUNTRIES;
}

const char *picklist_country(size_t i)
{
    return i < NCOUNTRIES ? countries[i] : NULL;
}
