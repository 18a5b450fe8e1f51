#include "bench_case.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NELEM(a)   (sizeof(a) / sizeof((a)[0]))
#define BLOCK_SIZE 16384

struct weighted {
    const char *v;
    unsigned w;
};

/* Rough relative frequencies in Colombian registries: enough that common
 * names repeat across cases the way they do in real data (which is what
 * makes person matching hard), not a census. */
static const struct weighted female_names[] = {
    {"María Fernanda", 35}, {"María José", 30},   {"María Alejandra", 30}, {"Valentina", 30},
    {"Daniela", 28},        {"María Camila", 25}, {"Ana María", 25},       {"Sofía", 20},
    {"Sandra Milena", 18},  {"Luz Marina", 15},   {"Diana Marcela", 15},   {"Leidy Johana", 15},
    {"Paola Andrea", 15},   {"Luz Adriana", 12},  {"Yuliana", 12},         {"Ángela María", 12},
    {"Érika", 10},          {"Yésica Paola", 10}, {"Mónica", 10},          {"Dayana", 10},
    {"Estefanía", 10},      {"Carmen Rosa", 8},   {"Nataly", 8},           {"Gloria Inés", 8},
    {"Marisol", 8},         {"Ingrid Lorena", 6}, {"Yurany", 6},           {"Kelly Johana", 6},
    {"Luz Dary", 5},        {"Nohemí", 4},
};

static const struct weighted male_names[] = {
    {"Juan Carlos", 30}, {"Andrés Felipe", 30}, {"Carlos Andrés", 25},   {"Juan David", 25},
    {"José", 20},        {"Luis Fernando", 20}, {"Sebastián", 20},       {"Santiago", 20},
    {"Jhon Jairo", 12},  {"Julián", 12},        {"Diego Alejandro", 12}, {"Óscar", 10},
    {"Wilson", 10},      {"Camilo", 10},        {"Mauricio", 10},        {"Jorge Eliécer", 10},
    {"Édgar", 8},        {"Fredy", 8},          {"Jesús Antonio", 8},    {"Jaime", 8},
    {"Álvaro", 8},       {"Yeison", 8},         {"Brayan Stiven", 8},    {"Héctor Fabio", 6},
    {"Néstor", 6},       {"Germán", 6},         {"José Francisco", 5},   {"Efraín", 4},
};

static const struct weighted surnames[] = {
    {"Rodríguez", 100},      {"Gómez", 80},    {"González", 78},
    {"Martínez", 75},        {"García", 70},   {"López", 68},
    {"Hernández", 60},       {"Sánchez", 58},  {"Ramírez", 56},
    {"Pérez", 55},           {"Díaz", 50},     {"Muñoz", 48},
    {"Rojas", 45},           {"Moreno", 44},   {"Jiménez", 40},
    {"Vargas", 38},          {"Castro", 35},   {"Gutiérrez", 34},
    {"Álvarez", 30},         {"Romero", 30},   {"Ortiz", 28},
    {"Suárez", 27},          {"Torres", 27},   {"Valencia", 25},
    {"Quintero", 20},        {"Ospina", 18},   {"Restrepo", 18},
    {"Cárdenas", 17},        {"Mosquera", 17}, {"Palacios", 15},
    {"Giraldo", 15},         {"Zapata", 14},   {"Osorio", 14},
    {"Londoño", 12},         {"Caicedo", 12},  {"Peña", 12},
    {"Núñez", 10},           {"Agudelo", 10},  {"Bermúdez", 9},
    {"Betancur", 8},         {"Henao", 8},     {"Ibargüen", 6},
    {"de la Cruz", 6},       {"de la Hoz", 5}, {"del Río", 4},
    {"de los Ríos", 4},      {"Chaverra", 4},  {"de Ávila", 3},
    {"Ruiz de Castilla", 1},
};

static const char *const aliases[] = {"El Paisa", "La Mona", "Don Jairo",  "El Costeño",
                                      "La Flaca", "El Mono", "La Patrona", "El Gordo",
                                      "Chucho",   "La Tía"};

struct place {
    const char *city, *state, *country, *postal;
    double lat, lon;
    unsigned w;
};

static const struct place co_places[] = {
    {"Bogotá", "Bogotá D.C.", "CO", "110111", 4.7110, -74.0721, 30},
    {"Medellín", "Antioquia", "CO", "050001", 6.2442, -75.5812, 20},
    {"Cali", "Valle del Cauca", "CO", "760001", 3.4516, -76.5320, 18},
    {"Cúcuta", "Norte de Santander", "CO", "540001", 7.8939, -72.5078, 15},
    {"Barranquilla", "Atlántico", "CO", "080001", 10.9685, -74.7813, 12},
    {"Cartagena de Indias", "Bolívar", "CO", "130001", 10.3910, -75.4794, 14},
    {"Pereira", "Risaralda", "CO", "660001", 4.8133, -75.6961, 10},
    {"Bucaramanga", "Santander", "CO", "680001", 7.1193, -73.1227, 8},
    {"Santa Marta", "Magdalena", "CO", "470001", 11.2408, -74.1990, 7},
    {"Ipiales", "Nariño", "CO", "524060", 0.8302, -77.6444, 6},
    {"Riohacha", "La Guajira", "CO", "440001", 11.5444, -72.9072, 5},
    {"Maicao", "La Guajira", "CO", "442001", 11.3784, -72.2395, 4},
    {"Necoclí", "Antioquia", "CO", "057840", 8.4260, -76.7837, 5},
    {"Buenaventura", "Valle del Cauca", "CO", "764501", 3.8801, -77.0312, 5},
    {"Quibdó", "Chocó", "CO", "270001", 5.6947, -76.6611, 3},
    {"Villavicencio", "Meta", "CO", "500001", 4.1420, -73.6266, 4},
    {"Armenia", "Quindío", "CO", "630001", 4.5339, -75.6811, 4},
    {"Leticia", "Amazonas", "CO", "910001", -4.2153, -69.9406, 2},
};

static const struct place abroad[] = {
    {"Ciudad de Panamá", "Panamá", "PA", "", 8.9824, -79.5199, 8},
    {"Ciudad de México", "Ciudad de México", "MX", "", 19.4326, -99.1332, 6},
    {"Tapachula", "Chiapas", "MX", "", 14.9056, -92.2632, 4},
    {"Madrid", "Comunidad de Madrid", "ES", "", 40.4168, -3.7038, 5},
    {"Lima", "Lima", "PE", "", -12.0464, -77.0428, 5},
    {"Quito", "Pichincha", "EC", "", -0.1807, -78.4678, 4},
    {"Santiago", "Región Metropolitana", "CL", "", -33.4489, -70.6693, 3},
    {"Santo Domingo", "Distrito Nacional", "DO", "", 18.4861, -69.9312, 2},
};

static const char *const streets[] = {"Calle", "Carrera", "Transversal", "Diagonal", "Avenida"};
static const char *const neighbourhoods[] = {"La Esperanza",   "El Carmen", "Villa del Sol",
                                             "San Martín",     "Los Pinos", "La Candelaria",
                                             "Nueva Colombia", "El Bosque"};

/* An exploitation profile keeps the case consistent: the picklists, the
 * summary and the event descriptions tell one story. */
struct profile {
    const char *type;
    const char *sex_type;     /* with SexualExploitation */
    const char *industry;     /* with ForcedLabour / ChildLabour */
    const char *offer;        /* what the victim was promised */
    const char *exploitation; /* what happened */
    unsigned w;
};

static const struct profile profiles[] = {
    {"SexualExploitation", "Prostitution", NULL, "trabajo como mesera en un bar",
     "explotación sexual en un establecimiento nocturno", 40},
    {"SexualExploitation", "RemoteInteractiveServices", NULL, "trabajo como modelo webcam",
     "explotación sexual en un estudio webcam", 10},
    {"ForcedLabour", NULL, "A_AgricultureForestryAndFishing", "jornal en una finca cafetera",
     "trabajo forzoso en cultivos sin pago", 15},
    {"ForcedLabour", NULL, "B_MiningAndQuarrying", "empleo en una mina de oro",
     "trabajo forzoso en minería ilegal", 6},
    {"ForcedLabour", NULL, "T_ActivitiesOfHouseholdsAsEmployers", "empleo como interna en una casa",
     "servidumbre doméstica con retención de salario", 10},
    {"ForcedMarriage", NULL, NULL, "una relación sentimental y un viaje",
     "matrimonio servil bajo amenazas", 4},
    {"ForcedBegging", NULL, NULL, "alojamiento y comida a cambio de ventas ambulantes",
     "mendicidad ajena en semáforos", 5},
    {"ChildLabour", NULL, "G_WholesaleAndRetailTradeRepairOfMotorVehicles",
     "ayudar en un negocio familiar", "trabajo infantil en un almacén", 4},
};

static const char *const recruitment[] = {
    "ThroughOnlineSocialNetworks", "ThroughAnOnlineAdvertisement", "ThroughFriendsOrSocialEvents",
    "ThroughFamilyOrFamilyEvents", "AtAPlaceOfBusiness",           "AtWork"};
static const char *const control[] = {
    "DebtBondage",   "WithholdsDocuments", "PhysicalThreats",    "ThreatensChildrenFamily",
    "TakesEarnings", "FalsePromises",      "PsychologicalAbuse", "ExcessiveWorkingHours"};
static const char *const vulnerabilities[] = {
    "Poverty",        "Migration",        "Education",      "Homelessness",
    "Discrimination", "AbuseSocialMedia", "WorkEnvironment"};
static const char *const roles_in_process[] = {"RecruiterOrIntermediary", "Exploiter",
                                               "Transporter", "BrokerTravelAgent", "Abuser"};

struct block {
    struct block *next;
    size_t used;
    _Alignas(16) unsigned char data[BLOCK_SIZE];
};

struct bench_case {
    Ritra__Case c;
    struct block *blocks;
    uint64_t rng;
    int year; /* the current year: every date must be in the past */
};

/* ---- arena and randomness ---------------------------------------------- */

static void *a_alloc(struct bench_case *bc, size_t n)
{
    struct block *b = bc->blocks;
    void *p;

    n = (n + 15) & ~(size_t)15;
    if (n > BLOCK_SIZE)
        abort(); /* no generated field comes near a block */
    if (b == NULL || b->used + n > BLOCK_SIZE) {
        b = malloc(sizeof(*b));
        if (b == NULL)
            abort();
        b->next = bc->blocks;
        b->used = 0;
        bc->blocks = b;
    }
    p = b->data + b->used;
    b->used += n;
    memset(p, 0, n);
    return p;
}

static char *a_printf(struct bench_case *bc, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static char *a_printf(struct bench_case *bc, const char *fmt, ...)
{
    char tmp[1024];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(tmp))
        abort();
    return memcpy(a_alloc(bc, (size_t)n + 1), tmp, (size_t)n + 1);
}

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform in [lo, hi]. */
static int rnd(struct bench_case *bc, int lo, int hi)
{
    return lo + (int)(splitmix(&bc->rng) % (uint64_t)(hi - lo + 1));
}

static int chance(struct bench_case *bc, int percent)
{
    return rnd(bc, 1, 100) <= percent;
}

static const char *pick(struct bench_case *bc, const char *const *v, size_t n)
{
    return v[rnd(bc, 0, (int)n - 1)];
}

static const char *pick_w(struct bench_case *bc, const struct weighted *v, size_t n)
{
    unsigned total = 0, r;

    for (size_t i = 0; i < n; i++)
        total += v[i].w;
    r = (unsigned)rnd(bc, 0, (int)total - 1);
    for (size_t i = 0; i < n; i++) {
        if (r < v[i].w)
            return v[i].v;
        r -= v[i].w;
    }
    return v[n - 1].v;
}

static const struct place *pick_place(struct bench_case *bc, const struct place *v, size_t n)
{
    unsigned total = 0, r;

    for (size_t i = 0; i < n; i++)
        total += v[i].w;
    r = (unsigned)rnd(bc, 0, (int)total - 1);
    for (size_t i = 0; i < n; i++) {
        if (r < v[i].w)
            return &v[i];
        r -= v[i].w;
    }
    return &v[n - 1];
}

/* k distinct values of v (k <= n), in list order. */
static char **pick_distinct(struct bench_case *bc, const char *const *v, size_t n, size_t k)
{
    char **out = a_alloc(bc, k * sizeof(*out));
    size_t got = 0;

    for (size_t i = 0; i < n && got < k; i++) {
        /* selection sampling: each value with probability needed/left */
        if ((size_t)rnd(bc, 0, (int)(n - i) - 1) < k - got)
            out[got++] = (char *)v[i];
    }
    return out;
}

static char **strs1(struct bench_case *bc, const char *s)
{
    char **out = a_alloc(bc, sizeof(*out));

    out[0] = (char *)s;
    return out;
}

/* "YYYY", "YYYY-MM" or "YYYY-MM-DD" between years from and to (both past). */
static char *past_date(struct bench_case *bc, int from, int to, int precision)
{
    int y = rnd(bc, from, to), m = rnd(bc, 1, 12), d = rnd(bc, 1, 28);

    if (precision == 0)
        return a_printf(bc, "%04d", y);
    if (precision == 1)
        return a_printf(bc, "%04d-%02d", y, m);
    return a_printf(bc, "%04d-%02d-%02d", y, m, d);
}

/* ---- persons -------------------------------------------------------- */

/* Cédula de ciudadanía: 10 digits from 10xx... for people born after 1990,
 * 8 digits before; written with or without the thousands dots, as
 * agencies do. */
static char *cedula(struct bench_case *bc, int birth_year)
{
    unsigned long long n;

    if (birth_year >= 1990)
        n = 1000000000ull + (unsigned long long)rnd(bc, 0, 129999999);
    else
        n = 10000000ull + (unsigned long long)rnd(bc, 0, 89999999);
    if (chance(bc, 50))
        return a_printf(bc, "%llu", n);
    if (n >= 1000000000ull)
        return a_printf(bc, "%llu.%03llu.%03llu.%03llu", n / 1000000000ull, n / 1000000 % 1000,
                        n / 1000 % 1000, n % 1000);
    return a_printf(bc, "%llu.%03llu.%03llu", n / 1000000, n / 1000 % 1000, n % 1000);
}

static char *phone(struct bench_case *bc)
{
    return a_printf(bc, "+573%02d%07d", rnd(bc, 0, 25), rnd(bc, 0, 9999999));
}

/* ASCII-only local part for an e-mail: "María José", "Muñoz" -> "maria.munoz". */
static char *email(struct bench_case *bc, const char *given, const char *surname)
{
    /* U+00C0..U+00FF (UTF-8 0xc3 0x80..0xbf) folded to ASCII, 32 per case */
    static const char fold[] = "aaaaaaaceeeeiiiidnooooooouuuuyty";
    const char *parts[2] = {given, surname};
    char local[64];
    size_t n = 0;

    for (int k = 0; k < 2; k++) {
        const unsigned char *p = (const unsigned char *)parts[k];

        while (*p != '\0' && *p != ' ' && n < 24) {
            if (p[0] == 0xc3 && p[1] >= 0x80 && p[1] <= 0xbf) {
                local[n++] = fold[p[1] & 0x1f];
                p += 2;
                continue;
            }
            if (isalpha(*p))
                local[n++] = (char)tolower(*p);
            p++;
        }
        if (k == 0)
            local[n++] = '.';
    }
    local[n] = '\0';
    return a_printf(bc, "%s%d@%s", local, rnd(bc, 1, 99),
                    pick(bc, (const char *const[]){"gmail.com", "hotmail.com", "yahoo.es"}, 3));
}

static Ritra__Address *address(struct bench_case *bc, const struct place *pl)
{
    Ritra__Address *a = a_alloc(bc, sizeof(*a));

    ritra__address__init(a);
    if (chance(bc, 80))
        a->street = a_printf(bc, "%s %d # %d-%d", pick(bc, streets, NELEM(streets)),
                             rnd(bc, 1, 150), rnd(bc, 1, 99), rnd(bc, 1, 99));
    else
        a->street = a_printf(bc, "Manzana %d Casa %d, Barrio %s", rnd(bc, 1, 30), rnd(bc, 1, 40),
                             pick(bc, neighbourhoods, NELEM(neighbourhoods)));
    a->city = (char *)pl->city;
    a->state = (char *)pl->state;
    a->postal_code = (char *)pl->postal;
    a->country = (char *)pl->country;
    return a;
}

/* Names, documents and contacts shared by every role. */
static Ritra__Person *person_base(struct bench_case *bc, const char *ref, const char *role,
                                  int female, int venezuelan, int birth_year)
{
    Ritra__Person *p = a_alloc(bc, sizeof(*p));
    Ritra__IdentityDocument *d;

    ritra__person__init(p);
    p->person_ref = (char *)ref;
    p->role = (char *)role;
    p->prs_firstname = (char *)(female ? pick_w(bc, female_names, NELEM(female_names))
                                       : pick_w(bc, male_names, NELEM(male_names)));
    p->first_surname = (char *)pick_w(bc, surnames, NELEM(surnames));
    if (chance(bc, 85))
        p->second_surname = (char *)pick_w(bc, surnames, NELEM(surnames));
    p->sex = female ? "Female" : "Male";
    if (chance(bc, 60))
        p->prs_gender = female ? "Feminine" : "Masculine";
    p->prs_birthdate = a_printf(bc, "%04d-%02d-%02d", birth_year, rnd(bc, 1, 12), rnd(bc, 1, 28));
    if (chance(bc, 15))
        p->prs_birthdate[4] = '\0'; /* only the year is known */
    p->n_prs_citizenship = 1;
    p->prs_citizenship = strs1(bc, venezuelan ? "VE" : "CO");
    if (chance(bc, 80)) {
        d = a_alloc(bc, sizeof(*d));
        ritra__identity_document__init(d);
        if (venezuelan) {
            d->type = chance(bc, 50) ? "Passport" : "NationalId";
            d->number = d->type[0] == 'P' ? a_printf(bc, "%09d", rnd(bc, 100000000, 199999999))
                                          : a_printf(bc, "V-%d", rnd(bc, 12000000, 32000000));
            d->issuing_country = "VE";
        } else {
            d->type = "NationalId";
            d->number = cedula(bc, birth_year);
            d->issuing_country = "CO";
        }
        p->n_documents = 1;
        p->documents = a_alloc(bc, sizeof(*p->documents));
        p->documents[0] = d;
    }
    p->n_phones = (size_t)rnd(bc, 0, 2);
    if (p->n_phones > 0) {
        p->phones = a_alloc(bc, p->n_phones * sizeof(char *));
        for (size_t i = 0; i < p->n_phones; i++)
            p->phones[i] = phone(bc);
    }
    return p;
}

/* year: when the recruitment happened, so the age fits the birth date. */
static Ritra__Person *victim(struct bench_case *bc, const struct place *home, int year)
{
    int venezuelan = chance(bc, 25), female = chance(bc, 80), age_then = rnd(bc, 13, 35);
    Ritra__Person *p = person_base(bc, "V1", "Victim", female, venezuelan, year - age_then);
    Ritra__VictimContext *v = a_alloc(bc, sizeof(*v));
    Ritra__Int32Value *age = a_alloc(bc, sizeof(*age));

    if (chance(bc, 60)) {
        p->n_addresses = 1;
        p->addresses = a_alloc(bc, sizeof(*p->addresses));
        p->addresses[0] = address(bc, home);
    }
    if (chance(bc, 30))
        p->prs_email = email(bc, p->prs_firstname, p->first_surname);
    ritra__victim_context__init(v);
    v->vic_traffickingstatus =
        chance(bc, 70) ? "ActualVictimOfTrafficking" : "PossibleVictimOfTrafficking";
    v->vic_traffickingstatusdecisionmakingorg =
        (char *)pick(bc, (const char *const[]){"CourtOrProsecution", "Police", "NGO"}, 3);
    v->vic_relationshiptotrafficker =
        (char *)pick(bc, (const char *const[]){"Acquainted", "Unaquainted", "Familial"}, 3);
    ritra__int32_value__init(age);
    age->value = age_then;
    v->vic_agewhentrafficked = age;
    v->n_vic_vulnerabilities = (size_t)rnd(bc, 1, 3);
    v->vic_vulnerabilities =
        pick_distinct(bc, vulnerabilities, NELEM(vulnerabilities), v->n_vic_vulnerabilities);
    if (chance(bc, 75)) {
        Ritra__Consent *con = a_alloc(bc, sizeof(*con));

        ritra__consent__init(con);
        con->con_consent = 1;
        con->n_scope = (size_t)rnd(bc, 1, 2);
        con->scope = pick_distinct(
            bc, (const char *const[]){"ShareWithAgencies", "ReferToServices", "Statistics"}, 3,
            con->n_scope);
        con->date = past_date(bc, bc->year - 2, bc->year - 1, 2);
        v->consent = con;
    }
    p->victim = v;
    return p;
}

static Ritra__Person *suspect(struct bench_case *bc, const char *ref)
{
    Ritra__Person *p = person_base(bc, ref, "Suspect", chance(bc, 30), chance(bc, 10),
                                   rnd(bc, bc->year - 60, bc->year - 22));
    Ritra__PerpetratorContext *pc = a_alloc(bc, sizeof(*pc));

    if (chance(bc, 40)) {
        p->n_aliases = 1;
        p->aliases = strs1(bc, pick(bc, aliases, NELEM(aliases)));
    }
    ritra__perpetrator_context__init(pc);
    pc->n_per_roleinprocess = (size_t)rnd(bc, 1, 2);
    pc->per_roleinprocess =
        pick_distinct(bc, roles_in_process, NELEM(roles_in_process), pc->n_per_roleinprocess);
    if (chance(bc, 50))
        pc->per_roledetails = "Contactaba a las víctimas por redes sociales y pagaba los pasajes";
    p->perpetrator = pc;
    return p;
}

static Ritra__Person *witness(struct bench_case *bc, const char *ref)
{
    return person_base(bc, ref, "Witness", chance(bc, 50), 0,
                       rnd(bc, bc->year - 70, bc->year - 18));
}

/* ---- the case ------------------------------------------------------- */

static Ritra__TraffickingEvent *event(struct bench_case *bc, const char *type,
                                      const struct place *pl, const char *desc, int year, int month)
{
    Ritra__TraffickingEvent *e = a_alloc(bc, sizeof(*e));

    ritra__trafficking_event__init(e);
    e->hte_type = (char *)type;
    e->hte_date = a_printf(bc, "%04d-%02d", year, month);
    if (chance(bc, 40))
        e->hte_date = a_printf(bc, "%s-%02d", e->hte_date, rnd(bc, 1, 28));
    e->hte_country = (char *)pl->country;
    e->hte_state = (char *)pl->state;
    e->hte_city = (char *)pl->city;
    if (chance(bc, 50)) {
        Ritra__GeoPoint *g = a_alloc(bc, sizeof(*g));

        ritra__geo_point__init(g);
        g->latitude = pl->lat + rnd(bc, -500, 500) / 10000.0;
        g->longitude = pl->lon + rnd(bc, -500, 500) / 10000.0;
        e->location = g;
    }
    if (desc != NULL) {
        e->hte_description = (char *)desc;
        e->description_sensitive = chance(bc, 50);
    }
    return e;
}

static void case_events(struct bench_case *bc, const struct profile *pr, const struct place *from,
                        const struct place *to, int year)
{
    Ritra__Case *c = &bc->c;
    int n = rnd(bc, 1, 3), month = rnd(bc, 1, 6);

    /* in order: recruitment, transit a few weeks later, then exploitation */
    c->events = a_alloc(bc, 3 * sizeof(*c->events));
    c->events[c->n_events++] =
        event(bc, "Recruitment", from, a_printf(bc, "Oferta de %s", pr->offer), year, month);
    month += rnd(bc, 0, 2);
    if (n == 3)
        c->events[c->n_events++] =
            event(bc, "Transit", pick_place(bc, co_places, NELEM(co_places)), NULL, year, month);
    month += rnd(bc, 0, 4);
    if (n >= 2)
        c->events[c->n_events++] = event(bc, "Exploitation", to, pr->exploitation, year, month);
}

static void case_comments(struct bench_case *bc)
{
    static const char *const texts[] = {
        "Entrevista inicial realizada.\nSe activa ruta de protección.",
        "Declaración ampliada; la víctima pide reserva de identidad.",
        "Se solicita a Migración Colombia verificación de movimientos migratorios.",
        "Remitida a la Unidad Móvil de Atención para acompañamiento psicosocial.",
    };
    Ritra__Case *c = &bc->c;

    c->n_comments = (size_t)rnd(bc, 0, 2);
    if (c->n_comments == 0)
        return;
    c->comments = a_alloc(bc, c->n_comments * sizeof(*c->comments));
    for (size_t i = 0; i < c->n_comments; i++) {
        Ritra__CaseComment *cc = a_alloc(bc, sizeof(*cc));

        ritra__case_comment__init(cc);
        cc->cco_casecomment = (char *)pick(bc, texts, NELEM(texts));
        cc->date = past_date(bc, bc->year - 1, bc->year - 1, 2);
        cc->sensitive = chance(bc, 30);
        c->comments[i] = cc;
    }
}

static void case_referral(struct bench_case *bc)
{
    Ritra__Referral *r = a_alloc(bc, sizeof(*r));

    ritra__referral__init(r);
    r->cas_referringorganisation =
        (char *)pick(bc,
                     (const char *const[]){"Defensoría del Pueblo", "Línea 018000 522020",
                                           "Organización Internacional para las Migraciones",
                                           "Personería de Cúcuta"},
                     4);
    r->cas_incomingreferraldate = past_date(bc, bc->year - 2, bc->year - 1, 2);
    r->cas_reasonforincomingreferral = "AdditionalServicesRequired";
    if (chance(bc, 50)) {
        r->cas_referredorganisation = "ICBF";
        r->cas_outgoingreferraldate = past_date(bc, bc->year - 1, bc->year - 1, 2);
        r->cas_reasonforoutgoingreferral = "Other";
        r->cas_outgoingreferraldetails =
            "Acompañamiento psicosocial y restablecimiento de derechos";
    }
    bc->c.referral = r;
}

static uint64_t hash_str(uint64_t h, const char *s)
{
    for (; *s != '\0'; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return h;
}

struct bench_case *bench_case_new(uint64_t seed, const char *external_ref, int persons)
{
    struct bench_case *bc = calloc(1, sizeof(*bc));
    const struct profile *pr;
    const struct place *from, *to;
    Ritra__Case *c;
    time_t now = time(NULL);
    struct tm tm;
    unsigned total = 0, r;
    int np, nsus = 0, year;

    if (bc == NULL)
        abort();
    gmtime_r(&now, &tm);
    bc->year = tm.tm_year + 1900;
    bc->rng = hash_str(0xcbf29ce484222325ull ^ seed, external_ref);
    c = &bc->c;
    ritra__case__init(c);
    c->external_ref = a_printf(bc, "%s", external_ref);

    for (size_t i = 0; i < NELEM(profiles); i++)
        total += profiles[i].w;
    r = (unsigned)rnd(bc, 0, (int)total - 1);
    pr = &profiles[NELEM(profiles) - 1];
    for (size_t i = 0; i < NELEM(profiles); i++) {
        if (r < profiles[i].w) {
            pr = &profiles[i];
            break;
        }
        r -= profiles[i].w;
    }
    from = pick_place(bc, co_places, NELEM(co_places));
    to = chance(bc, 35) ? pick_place(bc, abroad, NELEM(abroad))
                        : pick_place(bc, co_places, NELEM(co_places));
    year = rnd(bc, bc->year - 6, bc->year - 1);

    c->cas_status = chance(bc, 80) ? "Active" : "FollowUp";
    c->handling_code = (char *)pick(bc, (const char *const[]){"H1", "H1", "H2", "H2", "H3"}, 5);
    if (strcmp(c->handling_code, "H3") == 0)
        c->handling_conditions = "Solo fiscalía y policía judicial; no compartir con terceros";
    c->source_reliability = (char *)pick(bc, (const char *const[]){"A", "B", "B", "C"}, 4);
    c->information_accuracy = (char *)pick(bc, (const char *const[]){"1", "2", "2", "3"}, 4);
    c->n_vic_typeofexploitation = 1;
    c->vic_typeofexploitation = strs1(bc, pr->type);
    if (pr->sex_type != NULL) {
        c->n_vic_typeofsexexploitation = 1;
        c->vic_typeofsexexploitation = strs1(bc, pr->sex_type);
    }
    if (pr->industry != NULL)
        c->vic_forcedlabourindustry = (char *)pr->industry;
    c->n_vic_methodofrecruitment = (size_t)rnd(bc, 1, 2);
    c->vic_methodofrecruitment =
        pick_distinct(bc, recruitment, NELEM(recruitment), c->n_vic_methodofrecruitment);
    c->n_vic_methodsofcontrol = (size_t)rnd(bc, 1, 3);
    c->vic_methodsofcontrol = pick_distinct(bc, control, NELEM(control), c->n_vic_methodsofcontrol);
    c->summary =
        a_printf(bc,
                 "Víctima captada en %s (%s) mediante la oferta de %s. Trasladada a %s, donde fue "
                 "sometida a %s. Se reportan retención de documentos y una deuda por transporte y "
                 "alojamiento que nunca disminuía. Caso conocido en %d.",
                 from->city, from->state, pr->offer, to->city, pr->exploitation, year);
    c->summary_sensitive = chance(bc, 60);
    case_events(bc, pr, from, to, year);
    case_comments(bc);
    if (chance(bc, 40))
        case_referral(bc);

    /* The usual mix: a victim, 1-2 suspects, sometimes a witness. With
     * --persons K: a victim, then suspects with every third a witness. */
    if (persons > 0) {
        np = persons;
    } else {
        nsus = rnd(bc, 1, 2);
        np = 1 + nsus + (chance(bc, 30) ? 1 : 0);
    }
    c->persons = a_alloc(bc, (size_t)np * sizeof(*c->persons));
    c->persons[c->n_persons++] = victim(bc, from, year);
    for (int i = 1; i < np; i++) {
        char *ref = a_printf(bc, "P%d", i + 1);
        int is_witness = persons > 0 ? i % 3 == 0 : i > nsus;

        c->persons[c->n_persons++] = is_witness ? witness(bc, ref) : suspect(bc, ref);
    }
    return bc;
}

const Ritra__Case *bench_case_msg(const struct bench_case *bc)
{
    return &bc->c;
}

void bench_case_free(struct bench_case *bc)
{
    if (bc == NULL)
        return;
    while (bc->blocks != NULL) {
        struct block *b = bc->blocks;
        bc->blocks = b->next;
        free(b);
    }
    free(bc);
}
