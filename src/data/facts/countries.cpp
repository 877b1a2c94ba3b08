// Countries: capital, official language, currency, continent.
// Source: CIA World Factbook, fields "Capital", "Languages" (those marked official) and
// "Exchange rates" (currency name), as of 2025; currency names as in the ISO 4217 list.
// Where a country has several official languages (Belgium, Switzerland, Finland, Canada,
// India, ...) or names Spanish and the Indigenous languages together as national languages
// (Mexico), `language` is left empty and the language question is not
// asked; English for the United Kingdom, the United States and Australia is the de facto
// (Factbook: "English ... official"/"de facto") national language. Continents follow the
// usual seven-continent model; Russia and Turkey span two and get no continent question.
#include "data/facts/facts.h"

namespace rs::data::facts {

const std::vector<Country>& countries() {
  static const std::vector<Country> table = {
      // name, in-sentence form, capital, official language, currency, continent
      {"France", "France", "Paris", "French", "euro", "Europe"},
      {"Germany", "Germany", "Berlin", "German", "euro", "Europe"},
      {"Italy", "Italy", "Rome", "Italian", "euro", "Europe"},
      {"Spain", "Spain", "Madrid", "Spanish", "euro", "Europe"},
      {"Portugal", "Portugal", "Lisbon", "Portuguese", "euro", "Europe"},
      {"Netherlands", "the Netherlands", "Amsterdam", "Dutch", "euro", "Europe"},
      {"Belgium", "Belgium", "Brussels", "", "euro", "Europe"},
      {"Switzerland", "Switzerland", "Bern", "", "Swiss franc", "Europe"},
      {"Austria", "Austria", "Vienna", "German", "euro", "Europe"},
      {"Sweden", "Sweden", "Stockholm", "Swedish", "Swedish krona", "Europe"},
      {"Norway", "Norway", "Oslo", "Norwegian", "Norwegian krone", "Europe"},
      {"Denmark", "Denmark", "Copenhagen", "Danish", "Danish krone", "Europe"},
      {"Finland", "Finland", "Helsinki", "", "euro", "Europe"},
      {"Poland", "Poland", "Warsaw", "Polish", "Polish zloty", "Europe"},
      {"Greece", "Greece", "Athens", "Greek", "euro", "Europe"},
      {"Ireland", "Ireland", "Dublin", "", "euro", "Europe"},
      {"United Kingdom", "the United Kingdom", "London", "English", "pound sterling", "Europe"},
      {"Czech Republic", "the Czech Republic", "Prague", "Czech", "Czech koruna", "Europe"},
      {"Hungary", "Hungary", "Budapest", "Hungarian", "Hungarian forint", "Europe"},
      {"Russia", "Russia", "Moscow", "Russian", "Russian ruble", ""},
      {"Turkey", "Turkey", "Ankara", "Turkish", "Turkish lira", ""},
      {"Japan", "Japan", "Tokyo", "Japanese", "Japanese yen", "Asia"},
      {"China", "China", "Beijing", "Mandarin Chinese", "renminbi", "Asia"},
      {"South Korea", "South Korea", "Seoul", "Korean", "South Korean won", "Asia"},
      {"India", "India", "New Delhi", "", "Indian rupee", "Asia"},
      {"Thailand", "Thailand", "Bangkok", "Thai", "Thai baht", "Asia"},
      {"Vietnam", "Vietnam", "Hanoi", "Vietnamese", "Vietnamese dong", "Asia"},
      {"Malaysia", "Malaysia", "Kuala Lumpur", "Malay", "Malaysian ringgit", "Asia"},
      {"Cambodia", "Cambodia", "Phnom Penh", "Khmer", "Cambodian riel", "Asia"},
      {"Saudi Arabia", "Saudi Arabia", "Riyadh", "Arabic", "Saudi riyal", "Asia"},
      {"Iran", "Iran", "Tehran", "Persian", "Iranian rial", "Asia"},
      {"Pakistan", "Pakistan", "Islamabad", "", "Pakistani rupee", "Asia"},
      {"Philippines", "the Philippines", "Manila", "", "Philippine peso", "Asia"},
      {"Egypt", "Egypt", "Cairo", "Arabic", "Egyptian pound", "Africa"},
      {"Kenya", "Kenya", "Nairobi", "", "Kenyan shilling", "Africa"},
      {"Nigeria", "Nigeria", "Abuja", "English", "Nigerian naira", "Africa"},
      {"Morocco", "Morocco", "Rabat", "", "Moroccan dirham", "Africa"},
      {"Brazil", "Brazil", "Brasília", "Portuguese", "Brazilian real", "South America"},
      {"Argentina", "Argentina", "Buenos Aires", "Spanish", "Argentine peso", "South America"},
      {"Chile", "Chile", "Santiago", "Spanish", "Chilean peso", "South America"},
      {"Peru", "Peru", "Lima", "", "Peruvian sol", "South America"},
      {"Colombia", "Colombia", "Bogotá", "Spanish", "Colombian peso", "South America"},
      {"Mexico", "Mexico", "Mexico City", "", "Mexican peso", "North America"},
      {"Canada", "Canada", "Ottawa", "", "Canadian dollar", "North America"},
      {"United States", "the United States", "Washington, D.C.", "English",
       "United States dollar", "North America"},
      {"Cuba", "Cuba", "Havana", "Spanish", "Cuban peso", "North America"},
      {"Australia", "Australia", "Canberra", "English", "Australian dollar", "Oceania"},
      {"New Zealand", "New Zealand", "Wellington", "", "New Zealand dollar", "Oceania"},
  };
  return table;
}

const Country* find_country(const std::string& name) {
  for (const auto& c : countries())
    if (c.name == name) return &c;
  return nullptr;
}

}  // namespace rs::data::facts
