#include "case_fixture.h"

#include <stdio.h>
#include <string.h>

void case_fixture_init(struct case_fixture *f, const char *ext_ref, int variant)
{
    memset(f, 0, sizeof(*f));
    ritra__case__init(&f->c);
    snprintf(f->ext, sizeof(f->ext), "%s", ext_ref);
    snprintf(f->summary, sizeof(f->summary),
             "Captación en Cúcuta con falsas promesas de empleo; variante %d", variant);
    f->c.external_ref = f->ext;
    f->c.cas_status = "Active";
    f->c.handling_code = "H1";
    f->c.source_reliability = "B";
    f->c.information_accuracy = "2";
    f->types[0] = "SexualExploitation";
    f->types[1] = "ForcedLabour";
    f->c.n_vic_typeofexploitation = 2;
    f->c.vic_typeofexploitation = f->types;
    f->c.vic_forcedlabourindustry = "I_AccommodationAndFoodServiceActivities";
    f->sex_types[0] = "Prostitution";
    f->c.n_vic_typeofsexexploitation = 1;
    f->c.vic_typeofsexexploitation = f->sex_types;
    f->recruit[0] = "ThroughOnlineSocialNetworks";
    f->recruit[1] = "ThroughFriendsOrSocialEvents";
    f->c.n_vic_methodofrecruitment = 2;
    f->c.vic_methodofrecruitment = f->recruit;
    f->control[0] = "DebtBondage";
    f->control[1] = "WithholdsDocuments";
    f->c.n_vic_methodsofcontrol = 2;
    f->c.vic_methodsofcontrol = f->control;
    f->c.summary = f->summary;
    f->c.summary_sensitive = 1;

    for (int i = 0; i < 2; i++) {
        ritra__trafficking_event__init(&f->ev[i]);
        f->evs[i] = &f->ev[i];
    }
    f->ev[0].hte_type = "Recruitment";
    f->ev[0].hte_date = "2023-05";
    f->ev[0].hte_country = "CO";
    f->ev[0].hte_state = "Norte de Santander";
    f->ev[0].hte_city = "Cúcuta";
    f->ev[0].hte_street = "Calle 10 # 4-32";
    f->ev[0].hte_postalcode = "540001";
    ritra__geo_point__init(&f->geo);
    f->geo.latitude = 7.8939;
    f->geo.longitude = -72.5078;
    f->ev[0].location = &f->geo;
    f->ev[0].hte_description = "Oferta de trabajo en un restaurante";
    f->ev[0].description_sensitive = 1;
    f->ev[1].hte_type = "Exploitation";
    f->ev[1].hte_date = "2023-08-14";
    f->ev[1].hte_country = "MX";
    f->ev[1].hte_city = "Tapachula";
    f->c.n_events = 2;
    f->c.events = f->evs;

    for (int i = 0; i < 2; i++) {
        ritra__case_comment__init(&f->com[i]);
        f->coms[i] = &f->com[i];
    }
    f->com[0].cco_casecomment = "Entrevista inicial realizada.\nSe activa ruta de protección.";
    f->com[0].date = "2024-01-15";
    f->com[1].cco_casecomment = "Declaración ampliada; pide reserva.";
    f->com[1].sensitive = 1;
    f->c.n_comments = 2;
    f->c.comments = f->coms;

    ritra__referral__init(&f->referral);
    f->referral.cas_referringorganisation = "Defensoría del Pueblo";
    f->referral.cas_incomingreferraldate = "2024-01-10";
    f->referral.cas_reasonforincomingreferral = "AdditionalServicesRequired";
    f->referral.cas_incomingreferraldetails = "Remitida por línea 018000";
    f->referral.cas_referredorganisation = "ICBF";
    f->referral.cas_outgoingreferraldate = "2024-02-01";
    f->referral.cas_reasonforoutgoingreferral = "Other";
    f->referral.cas_outgoingreferraldetails = "Acompañamiento psicosocial";
    f->c.referral = &f->referral;

    ritra__person__init(&f->victim);
    f->victim.person_ref = "V1";
    f->victim.role = "Victim";
    f->victim.prs_firstname = "María José";
    f->victim.prs_middlename = "";
    f->victim.first_surname = "Muñoz";
    f->victim.second_surname = "de la Cruz";
    f->aliases[0] = "Majo";
    f->victim.n_aliases = 1;
    f->victim.aliases = f->aliases;
    f->victim.sex = "Female";
    f->victim.prs_gender = "Feminine";
    f->victim.prs_birthdate = "1994-03-07";
    f->cit[0] = "CO";
    f->cit[1] = "VE";
    f->victim.n_prs_citizenship = 2;
    f->victim.prs_citizenship = f->cit;
    ritra__identity_document__init(&f->doc);
    f->doc.type = "NationalId";
    f->doc.number = "1.023.456.789";
    f->doc.issuing_country = "CO";
    ritra__identity_document__init(&f->pass);
    f->pass.type = "Passport";
    f->pass.number = "AB123456";
    f->pass.issuing_country = "VE";
    f->docs[0] = &f->doc;
    f->docs[1] = &f->pass;
    f->victim.n_documents = 2;
    f->victim.documents = f->docs;
    f->phones[0] = "+573001234567";
    f->victim.n_phones = 1;
    f->victim.phones = f->phones;
    ritra__address__init(&f->addr);
    f->addr.street = "Carrera 7 # 12-45";
    f->addr.city = "Bogotá";
    f->addr.state = "Cundinamarca";
    f->addr.postal_code = "110111";
    f->addr.country = "CO";
    f->addrs[0] = &f->addr;
    f->victim.n_addresses = 1;
    f->victim.addresses = f->addrs;
    f->victim.prs_email = "majo.munoz@example.org";
    ritra__victim_context__init(&f->vctx);
    f->vctx.vic_traffickingstatus = "ActualVictimOfTrafficking";
    f->vctx.vic_traffickingstatusdecisionmakingorg = "CourtOrProsecution";
    f->vctx.vic_relationshiptotrafficker = "Acquainted";
    ritra__int32_value__init(&f->age);
    f->age.value = 17;
    f->vctx.vic_agewhentrafficked = &f->age;
    f->vuln[0] = "Poverty";
    f->vuln[1] = "Migration";
    f->vctx.n_vic_vulnerabilities = 2;
    f->vctx.vic_vulnerabilities = f->vuln;
    ritra__consent__init(&f->consent);
    f->consent.con_consent = 1;
    f->scope[0] = "ShareWithAgencies";
    f->consent.n_scope = 1;
    f->consent.scope = f->scope;
    f->consent.date = "2024-01-15";
    f->vctx.consent = &f->consent;
    f->victim.victim = &f->vctx;

    ritra__person__init(&f->suspect);
    f->suspect.person_ref = "S1";
    f->suspect.role = "Suspect";
    f->suspect.prs_firstname = "José Francisco";
    f->suspect.first_surname = "Pérez";
    f->suspect.second_surname = "Gómez";
    f->suspect.sex = "Male";
    f->suspect.prs_birthdate = "1980";
    ritra__perpetrator_context__init(&f->pctx);
    f->roles[0] = "RecruiterOrIntermediary";
    f->roles[1] = "Exploiter";
    f->pctx.n_per_roleinprocess = 2;
    f->pctx.per_roleinprocess = f->roles;
    f->pctx.per_roledetails = "Contactaba a las víctimas por redes sociales";
    f->suspect.perpetrator = &f->pctx;

    f->persons[0] = &f->victim;
    f->persons[1] = &f->suspect;
    f->c.n_persons = 2;
    f->c.persons = f->persons;
}

void case_fixture_request(struct case_fixture *f, Ritra__Request *req,
                          Ritra__SubmitCaseRequest *sub, int64_t expected_version)
{
    ritra__request__init(req);
    ritra__submit_case_request__init(sub);
    sub->case_ = &f->c;
    sub->expected_version = expected_version;
    req->op_case = RITRA__REQUEST__OP_SUBMIT_CASE;
    req->submit_case = sub;
}
