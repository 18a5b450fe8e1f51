/*
 * Name tables of the Colombian generator: surnames and given names with
 * weights roughly following their frequency in Colombia, and nicknames.
 */
#include "colgen_names.h"

/* Surname weights roughly follow their share in Colombia (per 1000). */
const struct wname colgen_surnames[] = {
    {"Rodríguez", 33}, {"Gómez", 23},     {"González", 22},   {"Martínez", 20},
    {"García", 20},    {"López", 19},     {"Hernández", 16},  {"Sánchez", 15},
    {"Ramírez", 15},   {"Pérez", 14},     {"Díaz", 13},       {"Muñoz", 12},
    {"Rojas", 11},     {"Moreno", 10},    {"Jiménez", 9},     {"Vargas", 9},
    {"Castro", 8},     {"Gutiérrez", 8},  {"Álvarez", 8},     {"Romero", 8},
    {"Ortiz", 7},      {"Herrera", 7},    {"Valencia", 7},    {"Ruiz", 6},
    {"Quintero", 6},   {"Restrepo", 6},   {"Torres", 6},      {"Suárez", 6},
    {"Mejía", 6},      {"Giraldo", 6},    {"Cárdenas", 5},    {"Ospina", 5},
    {"Osorio", 5},     {"Londoño", 5},    {"Zapata", 5},      {"Agudelo", 4},
    {"Marín", 4},      {"Castaño", 4},    {"Arango", 4},      {"Cardona", 4},
    {"Parra", 4},      {"Salazar", 4},    {"Ríos", 4},        {"Guerrero", 4},
    {"Medina", 4},     {"Peña", 4},       {"Vásquez", 4},     {"Cruz", 3},
    {"Mendoza", 3},    {"Aguilar", 3},    {"Duque", 3},       {"Bedoya", 3},
    {"Buitrago", 3},   {"Henao", 3},      {"Velásquez", 3},   {"Montoya", 3},
    {"Franco", 3},     {"Betancur", 3},   {"Gallego", 3},     {"Ocampo", 3},
    {"Rincón", 3},     {"Escobar", 3},    {"Acosta", 3},      {"Córdoba", 3},
    {"Mosquera", 3},   {"Arias", 3},      {"Rivera", 3},      {"Correa", 3},
    {"Jaramillo", 3},  {"Benítez", 2},    {"Ceballos", 2},    {"Villegas", 2},
    {"Sierra", 2},     {"Palacios", 2},   {"Hurtado", 2},     {"Chávez", 2},
    {"Navarro", 2},    {"Caicedo", 2},    {"Barrera", 2},     {"Bermúdez", 2},
    {"Orozco", 2},     {"Cortés", 2},     {"Delgado", 2},     {"Guzmán", 2},
    {"Carvajal", 2},   {"Pineda", 2},     {"Serna", 2},       {"Reyes", 2},
    {"Ramos", 2},      {"Lozano", 2},     {"Uribe", 2},       {"Zuluaga", 2},
    {"Beltrán", 2},    {"Vélez", 2},      {"Ibarra", 1},      {"Valderrama", 1},
    {"Bustamante", 1}, {"Echeverri", 1},  {"Saavedra", 1},    {"Cifuentes", 1},
    {"Urrego", 1},     {"Villalobos", 1}, {"Bohórquez", 1},   {"Yepes", 1},
    {"Bolívar", 1},    {"Llanos", 1},     {"Quiñones", 1},    {"Olaya", 1},
    {"Hoyos", 1},      {"Holguín", 1},    {"Cuéllar", 1},     {"Guevara", 1},
    {"Zambrano", 1},   {"Vallejo", 1},    {"Quiroga", 1},     {"Gil", 1},
    {"Rueda", 1},      {"Galeano", 1},    {"Alzate", 1},      {"Ballesteros", 1},
    {"de la Cruz", 1}, {"de la Hoz", 1},  {"de los Ríos", 1}, {"del Castillo", 1},
    {"de la Rosa", 1}, {"Ávila", 1},      {"Villa", 1},       {"Cuervo", 1},
    {"Silva", 2},      {"Cabrera", 1},
};

const struct wname colgen_male[] = {
    {"José", 30},      {"Juan", 35},      {"Luis", 20},    {"Carlos", 25},   {"Jorge", 12},
    {"Andrés", 15},    {"Diego", 10},     {"Jhon", 10},    {"Jairo", 6},     {"Fredy", 5},
    {"Fernando", 10},  {"Francisco", 6},  {"Jesús", 6},    {"Guillermo", 5}, {"Enrique", 4},
    {"Ignacio", 2},    {"Antonio", 8},    {"Alberto", 6},  {"Roberto", 4},   {"Santiago", 10},
    {"Sebastián", 10}, {"Alejandro", 12}, {"Miguel", 8},   {"Ángel", 4},     {"Édgar", 4},
    {"Óscar", 6},      {"Wilson", 5},     {"Édwin", 4},    {"Hernán", 4},    {"Javier", 8},
    {"Víctor", 6},     {"Julián", 6},     {"Camilo", 7},   {"Esteban", 6},   {"Stiven", 3},
    {"Brayan", 4},     {"Yeison", 3},     {"Yesid", 2},    {"Fabio", 3},     {"Álvaro", 4},
    {"Gustavo", 4},    {"Hugo", 3},       {"Pedro", 5},    {"Pablo", 5},     {"Manuel", 6},
    {"Rafael", 5},     {"Ricardo", 5},    {"Orlando", 3},  {"Nelson", 3},    {"Germán", 3},
    {"William", 4},    {"Héctor", 3},     {"Rubén", 2},    {"Mauricio", 4},  {"Alexánder", 5},
    {"Cristian", 6},   {"Kevin", 3},      {"Daniel", 10},  {"David", 10},    {"Felipe", 8},
    {"Mateo", 5},      {"Nicolás", 5},    {"Samuel", 4},   {"Gonzalo", 2},   {"Eduardo", 4},
    {"Rodrigo", 3},    {"Humberto", 2},   {"Alfonso", 2},  {"Ramón", 2},     {"Jaime", 4},
    {"Gabriel", 4},    {"Leonardo", 4},   {"Jhonatan", 3}, {"Édison", 2},    {"Omar", 3},
    {"Wilmar", 2},     {"Xavier", 1},     {"Gregorio", 1}, {"Arley", 1},     {"Yair", 1},
};

const struct wname colgen_female[] = {
    {"María", 60},    {"Luz", 15},       {"Ana", 15},      {"Diana", 8},      {"Paola", 6},
    {"Leidy", 6},     {"Yuliana", 4},    {"Daniela", 10},  {"Valentina", 10}, {"Laura", 10},
    {"Natalia", 8},   {"Carolina", 8},   {"Sandra", 8},    {"Claudia", 7},    {"Martha", 6},
    {"Gloria", 5},    {"Blanca", 4},     {"Rosa", 4},      {"Guadalupe", 1},  {"Dolores", 1},
    {"Rosario", 2},   {"Concepción", 1}, {"Graciela", 2},  {"Pilar", 2},      {"Teresa", 3},
    {"Yesenia", 3},   {"Yésica", 3},     {"Jimena", 3},    {"Valeria", 6},    {"Isabella", 5},
    {"Sofía", 6},     {"Mariana", 6},    {"Luisa", 5},     {"Angie", 4},      {"Stefany", 3},
    {"Camila", 8},    {"Catalina", 5},   {"Alejandra", 7}, {"Fernanda", 5},   {"Paula", 6},
    {"Andrea", 8},    {"Marcela", 5},    {"Milena", 5},    {"Patricia", 6},   {"Lucía", 4},
    {"Marina", 3},    {"Johana", 4},     {"Juliana", 6},   {"Tatiana", 4},    {"Liliana", 5},
    {"Adriana", 5},   {"Mónica", 4},     {"Viviana", 4},   {"Lorena", 4},     {"Ángela", 5},
    {"Gabriela", 4},  {"Victoria", 3},   {"Mercedes", 2},  {"Isabel", 4},     {"Susana", 2},
    {"Consuelo", 2},  {"Socorro", 2},    {"Fabiola", 2},   {"Yolanda", 3},    {"Beatriz", 3},
    {"Esperanza", 3}, {"Amparo", 3},     {"Nidia", 2},     {"Carmen", 5},     {"Elena", 3},
    {"Josefa", 1},    {"Antonia", 1},    {"Francisca", 1}, {"Sara", 4},       {"Manuela", 3},
    {"Salomé", 3},    {"Ximena", 1},     {"Nubia", 2},     {"Dary", 2},       {"Inés", 2},
};

/* How agencies shorten names; a few of these the matcher's table lacks
 * (Mao), so that nicknames are not graded by their own answer key. */
const struct colgen_nick colgen_nicks[] = {
    {"José", "Pepe"},      {"José", "Chepe"},        {"Francisco", "Pacho"}, {"Francisco", "Paco"},
    {"Jesús", "Chucho"},   {"Guillermo", "Memo"},    {"Enrique", "Quique"},  {"Ignacio", "Nacho"},
    {"Antonio", "Toño"},   {"Alberto", "Beto"},      {"Roberto", "Beto"},    {"Juan", "Juancho"},
    {"Luis", "Lucho"},     {"Alejandro", "Alejo"},   {"Santiago", "Santi"},  {"Sebastián", "Sebas"},
    {"Fernando", "Nando"}, {"Manuel", "Manolo"},     {"Rafael", "Rafa"},     {"Eduardo", "Lalo"},
    {"Gonzalo", "Chalo"},  {"Felipe", "Pipe"},       {"Guadalupe", "Lupe"},  {"Graciela", "Chela"},
    {"Rosario", "Charo"},  {"Concepción", "Concha"}, {"Dolores", "Lola"},    {"Pilar", "Pili"},
    {"Isabel", "Chabela"}, {"Mercedes", "Meche"},    {"Socorro", "Coco"},    {"Catalina", "Cata"},
    {"Daniela", "Dani"},   {"Valentina", "Vale"},    {"Camila", "Cami"},     {"Carolina", "Caro"},
    {"Gustavo", "Tavo"},   {"Alfonso", "Poncho"},    {"Natalia", "Nati"},    {"Gabriela", "Gaby"},
    {"Mauricio", "Mao"},   {"Ricardo", "Richi"},
};

#define COUNT(t) (sizeof(t) / sizeof(t[0]))

const size_t colgen_n_surnames = COUNT(colgen_surnames);
const size_t colgen_n_male = COUNT(colgen_male);
const size_t colgen_n_female = COUNT(colgen_female);
const size_t colgen_n_nicks = COUNT(colgen_nicks);
